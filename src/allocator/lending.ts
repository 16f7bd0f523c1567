/**
 * Borrowing past a share, for any resource the rules share out (cores,
 * GPUs): what idle users lend is split evenly between a user and every
 * other user that waits having reached its share. One rule for both, so that
 * GPUs are lent as cores are (grant.ts, gpu-share.ts).
 */

/** One user's standing in one resource: jobs waiting for it, and what it holds and is given. */
export interface Standing {
  queue: number;
  used: number;
  min: number;
  extra: number;
}

/**
 * How much beyond its share `user` may borrow: the unused extra of users
 * with nothing waiting (`lends` of each: how much of its extra it lends),
 * split evenly between `user` and every other user that waits and has
 * reached its share; users waiting under their share neither compete nor
 * lend. The remainder of the split goes one each to the earliest-registered
 * competitors (the original floored it, leaving some idle).
 */
export function borrowable<U>(users: readonly U[], user: U, standing: (u: U) => Standing, lends: (s: Standing) => number): number {
  let competitors = 1;
  let rank = 0; // competitors registered before `user`
  let lendable = 0;
  let before = true;
  for (const o of users) {
    if (o === user) {
      before = false;
      continue;
    }
    const s = standing(o);
    if (s.queue > 0 && s.used >= s.min + s.extra) {
      competitors++;
      if (before) rank++;
    } else if (s.queue === 0) lendable += lends(s);
  }
  const each = Math.floor(lendable / competitors);
  return lendable > 0 && rank < lendable - each * competitors ? each + 1 : each;
}
