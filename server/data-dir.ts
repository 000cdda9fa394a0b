/**
 * The default readings file: in the user's data folder, beside nothing else of the project.
 * Linux and other Unix: `$XDG_DATA_HOME/picow-sim` or `~/.local/share/picow-sim` (XDG Base
 * Directory spec); macOS: `~/Library/Application Support/picow-sim`; Windows: `%LOCALAPPDATA%`.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_DIR = 'picow-sim';
export const DEFAULT_DB_NAME = 'readings.sqlite';

export function userDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), APP_DIR);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR);
  const xdg = env.XDG_DATA_HOME;
  // The XDG spec: a relative path in $XDG_DATA_HOME is invalid and must be ignored.
  return join(xdg && xdg.startsWith('/') ? xdg : join(home, '.local', 'share'), APP_DIR);
}

export function defaultDbPath(env?: NodeJS.ProcessEnv, platform?: NodeJS.Platform, home?: string): string {
  return join(userDataDir(env, platform, home), DEFAULT_DB_NAME);
}
