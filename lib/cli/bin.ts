/** The `o365-mail` command line as a program: runs it on this process's arguments. */
import { main } from './main.ts';

process.exitCode = await main(process.argv);
