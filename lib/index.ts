/**
 * `o365-mail-queue`: the producer and the mail message contract. The sender itself ships as a
 * prebuilt bundle used by the `o365-mail-queue/cdk` construct, not as a library.
 */
export * from './message/index.ts';
export * from './producer/index.ts';
