import * as pulumi from "@pulumi/pulumi";

/**
 * Runs a pure renderer for a component; a renderer's error (a name nginx or
 * systemd would misread) becomes a ResourceError that names the resource and
 * what was being rendered, so `pulumi up` says where it failed.
 */
export function rendered<T>(resource: pulumi.Resource, what: string, render: () => T): T {
  try {
    return render();
  } catch (err) {
    if (err instanceof pulumi.ResourceError) throw err;
    throw new pulumi.ResourceError(`${what}: ${err instanceof Error ? err.message : String(err)}`, resource);
  }
}
