#!/usr/bin/env bash
# `npm run up`: deploy the dev stack (or $STACK) with local file state.
# `thon up` (infra/cli/prepare.ts) does the work: the Pulumi CLI (installed
# into .pulumi-cli/ with Pulumi's official installer when it is missing),
# `pulumi login file://<this folder>`, the stack (selected or created),
# `thon doctor`, then `pulumi up`. Without the CLI and without the download
# it says which failed and prints the offline preview (`thon plan`) instead.
# Arguments go to `pulumi up` (e.g. npm run up -- --yes).
set -euo pipefail
cd "$(dirname "$0")/.."
exec node bin/thon.mjs up --stack "${STACK:-dev}" -- "$@"
