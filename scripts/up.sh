#!/usr/bin/env bash
# `npm run up`: deploy the dev stack (or $STACK) with local file state.
# Needs the Pulumi CLI (see README "Installing Pulumi"). Where it is missing,
# as on machines without internet, it says so and prints the offline preview
# (`thon plan`) of the same program instead, so you still see what would be
# declared.
set -euo pipefail
cd "$(dirname "$0")/.."
STACK="${STACK:-dev}"
if ! command -v pulumi >/dev/null 2>&1; then
  echo "pulumi CLI not found: showing the offline preview of stack '$STACK' (thon plan) instead of deploying." >&2
  echo "Install Pulumi (README: Installing Pulumi) and run this again to deploy." >&2
  exec node bin/thon.mjs plan --stack "$STACK"
fi
# The dev stack's passphrase protects nothing of value; real stacks must set their own.
if [ "$STACK" = dev ]; then export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-dev}"; fi
pulumi login "file://$PWD" >/dev/null
pulumi stack select "$STACK" 2>/dev/null || pulumi stack init "$STACK" --secrets-provider passphrase
pulumi up --stack "$STACK" "$@"
