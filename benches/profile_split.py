#!/usr/bin/env python3
"""Splits two servers' `perf script` call stacks into categories, as CPU microseconds per request.

Usage (run by benches/profile.sh): profile_split.py REQUESTS REDIS_STACKS OURS_STACKS

REQUESTS has one line per server, "<name> <requests served while sampling>". Kernel samples are
sorted by the syscall or interrupt in their stack, user samples by their leaf function.
"""
import re
import sys

# Kernel time: (category, patterns); a sample whose leaf frame is in the kernel goes to the first
# category with a pattern anywhere in its stack (the syscall or interrupt that led there).
KERNEL = [
    ("kernel: TCP send (sendto/write)", ["__x64_sys_sendto", "__x64_sys_write", "ksys_write"]),
    ("kernel: TCP receive (recvfrom/read)", ["__x64_sys_recvfrom", "__x64_sys_read", "ksys_read"]),
    ("kernel: io_uring (submit, poll, completions)", ["io_uring", "io_submit", "io_poll"]),
    ("kernel: epoll", ["epoll_wait", "ep_poll"]),
    ("kernel: membarrier (glommio's sleep/wake)", ["membarrier"]),
    ("kernel: eventfd, futex (cross-thread wake)", ["eventfd", "futex"]),
    ("kernel: interrupts, IPIs, scheduling", [
        "asm_sysvec", "asm_common_interrupt", "schedule", "irqentry", "finish_task_switch",
        "do_softirq", "net_rx_action"]),
    ("kernel: other", [""]),
]
# User time: (category, patterns) matched against the leaf function only (and, for lookups, its
# two callers: a memcmp inside a hash-table probe is the probe's).
USER = [
    ("user: key lookups (hash table, prefetch)", 3, [
        "find_live", "Keyspace::prefetch", "route_batch", "dictFind", "dictAdd", "lookupKey",
        "dbAdd", "_dictExpand", "dictRehash", "siphash", "dictGenHash", "dictSdsKeyCompare",
        "reserve_rehash", "hash_one", "dictFindEntryRefByPtrAndHash"]),
    ("user: runtime (glommio)", 1, ["glommio::", "futures_channel", "futures_lite"]),
    ("user: memory (malloc/free/memcpy)", 1, [
        "malloc", "cfree", "_int_free", "je_", "memmove", "memcpy", "memcmp", "__libc_free",
        "realloc", "unlink_chunk", "memset"]),
    ("user: server code (parse, route, run, reply)", 1, [""]),
]


def classify(frames):
    """The category of one sample, from its frames (leaf first)."""
    if not frames:
        return "other"
    if "[kernel.kallsyms]" in frames[0]:
        stack = "\n".join(frames)
        for name, pats in KERNEL:
            if any(p in stack for p in pats):
                return name
    for name, depth, pats in USER:
        top = "\n".join(frames[:depth])
        if any(p in top for p in pats):
            return name
    return "other"


def split(path):
    """Per category, the sampled CPU time in ns, and the total."""
    totals = {}
    total = 0
    text = open(path, errors="replace").read()
    for block in text.split("\n\n"):
        lines = block.strip().split("\n")
        if not lines or not lines[0]:
            continue
        m = re.search(r"\s(\d+)\s+cpu-clock", lines[0])
        period = int(m.group(1)) if m else 250000
        cat = classify([ln.strip() for ln in lines[1:]])
        totals[cat] = totals.get(cat, 0) + period
        total += period
    return totals, total


def main():
    reqs = {}
    for line in open(sys.argv[1]):
        name, n = line.split()
        reqs[name] = max(int(n), 1)
    redis, redis_total = split(sys.argv[2])
    ours, ours_total = split(sys.argv[3])
    cats = [c for c, _ in KERNEL] + [c for c, _, _ in USER] + ["other"]
    r_req, o_req = reqs["redis"], reqs["ours"]

    def us(ns, n):
        return ns / 1000.0 / n

    print()
    print(f"requests sampled: redis {r_req}, ours {o_req}")
    print()
    print("| where | redis µs/req | ours µs/req | ours − redis |")
    print("|---|--:|--:|--:|")
    for c in cats:
        r = us(redis.get(c, 0), r_req)
        o = us(ours.get(c, 0), o_req)
        if r == 0 and o == 0:
            continue
        print(f"| {c} | {r:.3f} | {o:.3f} | {o - r:+.3f} |")
    r = us(redis_total, r_req)
    o = us(ours_total, o_req)
    print(f"| **total** | **{r:.3f}** | **{o:.3f}** | **{o - r:+.3f}** (ours/redis {o / r:.2f}) |")


if __name__ == "__main__":
    main()
