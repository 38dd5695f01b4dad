/** Writes lib/message/mail-message.schema.json from the zod schema (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { renderMailMessageJsonSchema } from '../lib/message/mail-message-json-schema.ts';

const target = new URL('../lib/message/mail-message.schema.json', import.meta.url);
writeFileSync(target, renderMailMessageJsonSchema());
console.log(`wrote ${target.pathname}`);
