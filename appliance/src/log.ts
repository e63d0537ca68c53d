/** A plain line logger: time, level, message; systemd's journal keeps it. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Log = (level: LogLevel, line: string) => void;

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLog(
  minimum: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Log {
  return (level, line) => {
    if (ORDER[level] >= ORDER[minimum]) write(`${new Date().toISOString()} ${level.padEnd(5)} ${line}`);
  };
}
