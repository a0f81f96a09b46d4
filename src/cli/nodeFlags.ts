/**
 * The Node.js flags every cairn process runs with: bin/cairn.ts's shebang, `npm start`, the Dockerfile, the compose
 * nodes (deploy/node.sh) and the nodes `cairn devnet` spawns name them; a test keeps those in step with this list.
 *
 * --max-old-space-size: V8 lets the old generation grow to up to 4x what survived the last full collection when its
 * heap limit is 2 GB or more (the default on a machine with this much memory), and by less below that. A node's
 * garbage comes per block and in bulk: after 100,000 transactions V8 held 650-730 MB of heap for ~230 MB of live
 * objects, and peak RSS passed 1.2 GB. Under a 1.5 GB limit the growth factor is ~1.8 (bench, 102,000 transactions
 * in one process, interleaved runs): peak RSS 546 / 1,076 / 1,211 MB -> 527 / 834 / 989 MB (transfers single,
 * batched, ERC-20), for 1 / 14 / 3 % more CPU per transaction. The limit is 6x the live heap of a pool holding 50,000
 * transactions; a node that needs more is started with a larger one (`node --max-old-space-size=4096 bin/cairn.ts`).
 *
 * The young generation keeps V8's default size: a larger one made `cairn import` of the bench chain slower (two
 * interleaved rounds: 95 / 96 s wall, 129 / 130 s user CPU by default; 102 / 102 s and 137 / 137 s with
 * --max-semi-space-size=32; 107 s and 145 s with 64). Scavenging on the main thread alone (--no-parallel-scavenge)
 * did not shorten the pauses on a 4-node devnet either: in one run each, the sealers' median scavenge took 22 ms
 * both ways.
 */
export const NODE_FLAGS = ['--max-old-space-size=1536'] as const
