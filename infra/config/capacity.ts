// What one sandbox costs, as measured (docs/performance.md "Density and readiness",
// bench/density.ts): code-server 4.100.3 in its container.

/** Idle: 48 MiB in the container plus 13 MiB for its containerd shim. The floor: a host cannot hold fewer. */
export const SANDBOX_IDLE_MIB = 61;
/** With a browser session open (workbench and extension host): 227 MiB plus the shim. */
export const SANDBOX_OPEN_MIB = 240;
/** Kept for the OS, dockerd, containerd and nginx when planning a host. */
export const HOST_RESERVED_MIB = 2048;
