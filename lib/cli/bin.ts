/** The `o365-mail` command line as a program: runs it on this process's arguments. */
import { main } from './main.ts';

// `o365-mail dlq list | head` closes the pipe early: that is the reader being done, not a failure
// worth a stack trace. Anything else on stdout stays an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv);
