/**
 * The commit a run started from, via simple-git. "Dirty" means tracked files differ from HEAD
 * (as `git describe --dirty` has it): untracked files such as the `.mlops/` folder the run
 * itself creates must not make every second run dirty. Outside a repository, or without git,
 * the fields are simply absent: tracking never fails for want of git.
 */
import { simpleGit } from 'simple-git';

export interface GitInfo {
  commit?: string;
  dirty?: boolean;
  /** Absent on a detached HEAD. */
  branch?: string;
}

export async function gitInfo(dir: string): Promise<GitInfo> {
  try {
    const git = simpleGit({ baseDir: dir, timeout: { block: 10_000 } });
    if (!(await git.checkIsRepo())) return {};
    const info: GitInfo = {};
    try {
      info.commit = (await git.revparse(['HEAD'])).trim();
    } catch {
      // A repository without commits yet: no commit to record.
    }
    const status = await git.status(['--untracked-files=no']);
    info.dirty = !status.isClean();
    if (status.current && !status.detached) info.branch = status.current;
    return info;
  } catch {
    return {};
  }
}
