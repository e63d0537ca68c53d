/**
 * Per-proctor column management (which participant columns, in what order), kept locally in
 * `<dataDir>/proctor-preferences.json` so a proctor finds their table as they left it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_COLUMNS, PARTICIPANT_COLUMNS, type ParticipantColumn } from '../../../domain/monitor.js';
import { KeyedLock } from '../keyed-lock.js';
import { writeFileDurably } from '../store/fs-durable.js';

const fileSchema = z.object({ columns: z.record(z.string(), z.array(z.enum(PARTICIPANT_COLUMNS))) });

export class ColumnPreferences {
  private readonly lock = new KeyedLock();

  constructor(private readonly dataDir: string) {}

  private get file(): string {
    return path.join(this.dataDir, 'proctor-preferences.json');
  }

  private async read(): Promise<Record<string, ParticipantColumn[]>> {
    try {
      return fileSchema.parse(JSON.parse(await readFile(this.file, 'utf8'))).columns;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
  }

  async get(username: string): Promise<ParticipantColumn[]> {
    return (await this.read())[username] ?? DEFAULT_COLUMNS;
  }

  set(username: string, columns: ParticipantColumn[]): Promise<void> {
    return this.lock.run('file', async () => {
      const all = await this.read();
      await writeFileDurably(this.file, `${JSON.stringify({ columns: { ...all, [username]: columns } }, null, 2)}\n`);
    });
  }
}
