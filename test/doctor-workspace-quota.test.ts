import { describe, expect, it } from "vitest";
import { workspaceQuotaSupport } from "../infra/doctor/workspaceQuota.ts";

const mounts = (...lines: string[]) => lines.join("\n") + "\n";

describe("thon doctor: can workspaces have a size limit (sandbox.workspaceSize)?", () => {
  it("says yes for XFS with project quotas under Docker's data root", () => {
    const v = workspaceQuotaSupport({
      dockerRootDir: "/var/lib/docker",
      mounts: mounts("/dev/vda1 / ext4 rw,relatime 0 0", "/dev/vdb1 /var/lib/docker xfs rw,relatime,attr2,inode64,prjquota 0 0"),
    });
    expect(v).toMatchObject({ supported: true, mountPoint: "/var/lib/docker" });
  });
  it("says no for ext4 and names the fix", () => {
    const v = workspaceQuotaSupport({ dockerRootDir: "/var/lib/docker", mounts: mounts("/dev/vda / ext4 rw,relatime 0 0") });
    expect(v.supported).toBe(false);
    expect(v.message).toBe("/var/lib/docker/volumes is on / (ext4, rw,relatime): workspace size limits need XFS with project quotas. Leave sandbox.workspaceSize unset, or move Docker's data root to an XFS filesystem mounted with pquota");
  });
  it("says no for XFS without pquota, and takes the longest mount that holds the volumes", () => {
    const v = workspaceQuotaSupport({
      dockerRootDir: "/srv/docker",
      mounts: mounts("/dev/vda1 / xfs rw,prjquota 0 0", "/dev/vdb1 /srv xfs rw,relatime 0 0", "/dev/vdc1 /srv/dockerx xfs rw,prjquota 0 0"),
    });
    expect(v).toMatchObject({ supported: false, mountPoint: "/srv" });
    expect(v.message).toMatch(/XFS without project quotas\. Mount it with pquota/);
  });
});
