/**
 * The S3 client and the one command the sender uses, loaded with `import()` when the first
 * attachment stored in S3 needs them: most batches have none, so a cold start does not evaluate the
 * S3 client (issue 7). A module of its own rather than `import('@aws-sdk/client-s3')`, so esbuild
 * keeps only these two exports of the package instead of all of it.
 */
export { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
