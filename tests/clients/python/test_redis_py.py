"""redis-py used the way an application uses it, against the server on 127.0.0.1:$REDIS_PORT.

REDIS_PROTOCOL=2 (default) or 3 picks RESP2 or RESP3 (`protocol=3`: HELLO 3 on connect).
Run by tests/libraries.rs; by hand:

    REDIS_PORT=6379 REDIS_PROTOCOL=3 tests/clients/python/.venv/bin/python \
        -m unittest -v tests/clients/python/test_redis_py.py

Every test starts from an empty database 0 (FLUSHDB) and expects Redis 7.0's behaviour.
`Basics` needs no transactions; `Transactions` covers MULTI/EXEC/WATCH/DISCARD.
"""

import os
import threading
import time
import unittest

import redis
from redis.exceptions import ExecAbortError, ResponseError, WatchError

PORT = int(os.environ["REDIS_PORT"])
PROTOCOL = int(os.environ.get("REDIS_PROTOCOL", "2"))
TIMEOUT = 10  # seconds: every socket operation is bounded


def client(**kw):
    opts = dict(
        host="127.0.0.1",
        port=PORT,
        protocol=PROTOCOL,
        decode_responses=True,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
    )
    opts.update(kw)
    return redis.Redis(**opts)


def wait_until(pred, limit=5.0, every=0.02):
    deadline = time.monotonic() + limit
    while True:
        if pred():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(every)


class Base(unittest.TestCase):
    def setUp(self):
        self.r = client()
        self.r.flushdb()

    def tearDown(self):
        self.r.close()


class Basics(Base):
    def test_connect_ping_echo_info(self):
        self.assertIs(self.r.ping(), True)
        self.assertEqual(self.r.echo("hello"), "hello")
        info = self.r.info("server")
        self.assertIn("redis_version", info)
        self.assertEqual(self.r.dbsize(), 0)
        if PROTOCOL == 3:
            # HELLO 3 is what redis-py sent on connect; asking again returns the map.
            hello = self.r.execute_command("HELLO", 3)
            self.assertIsInstance(hello, dict)
            self.assertEqual(hello["proto"], 3)

    def test_client_name_and_select(self):
        named = client(client_name="app-worker-1", db=3)
        try:
            self.assertEqual(named.client_getname(), "app-worker-1")
            self.assertIsInstance(named.client_id(), int)
            named.set("only-in-3", "x")
            self.assertEqual(named.get("only-in-3"), "x")
            self.assertIsNone(self.r.get("only-in-3"))
            self.assertEqual(named.dbsize(), 1)
        finally:
            named.flushdb()
            named.close()

    def test_set_get_strings(self):
        r = self.r
        self.assertIs(r.set("greeting", "hello"), True)
        self.assertEqual(r.get("greeting"), "hello")
        self.assertIsNone(r.get("missing"))
        self.assertIsNone(r.set("greeting", "again", nx=True))
        self.assertIs(r.set("greeting", "again", xx=True), True)
        self.assertEqual(r.set("greeting", "third", get=True), "again")
        self.assertEqual(r.incr("counter"), 1)
        self.assertEqual(r.incrby("counter", 41), 42)
        self.assertEqual(r.decr("counter"), 41)
        self.assertAlmostEqual(r.incrbyfloat("f", 2.5), 2.5)
        self.assertAlmostEqual(r.incrbyfloat("f", 0.25), 2.75)
        self.assertEqual(r.append("greeting", "!"), 6)
        self.assertEqual(r.strlen("greeting"), 6)
        self.assertEqual(r.getrange("greeting", 0, 2), "thi")
        self.assertIs(r.mset({"a": "1", "b": "2", "c": "3"}), True)
        self.assertEqual(r.mget("a", "b", "nope", "c"), ["1", "2", None, "3"])
        self.assertEqual(r.getdel("a"), "1")
        self.assertEqual(r.exists("a", "b", "c"), 2)
        self.assertEqual(r.delete("b", "c", "nope"), 2)
        self.assertEqual(r.type("greeting"), "string")
        self.assertEqual(r.type("nope"), "none")

    def test_keyspace_commands(self):
        r = self.r
        r.set("old", "v")
        self.assertIs(r.rename("old", "new"), True)
        self.assertIsNone(r.get("old"))
        self.assertIs(r.copy("new", "copy"), True)
        self.assertIs(r.copy("new", "copy"), False)
        self.assertIs(r.renamenx("copy", "new"), False)
        self.assertIn(r.randomkey(), {"new", "copy"})
        self.assertEqual(r.touch("new", "copy", "missing"), 2)
        self.assertEqual(r.object("encoding", "new"), "embstr")
        r.rpush("l", *range(10))
        self.assertEqual(r.object("encoding", "l"), "quicklist")  # Redis 7.0: always
        r.hset("h", "f", "v")
        self.assertEqual(r.object("encoding", "h"), "listpack")
        self.assertEqual(r.unlink("new", "copy", "l", "h"), 4)
        self.assertEqual(r.dbsize(), 0)
        with self.assertRaises(ResponseError) as cm:
            r.rename("missing", "x")
        self.assertEqual(str(cm.exception), "no such key")

    def test_binary_values_round_trip(self):
        raw = client(decode_responses=False)
        try:
            blob = bytes(range(256)) * 4 + b"\r\n\x00end"
            raw.set(b"bin\x00key", blob)
            self.assertEqual(raw.get(b"bin\x00key"), blob)
            big = os.urandom(1 << 20)
            raw.set("big", big)
            self.assertEqual(raw.get("big"), big)
            self.assertEqual(raw.strlen("big"), 1 << 20)
        finally:
            raw.close()

    def test_errors_surface_as_response_error(self):
        r = self.r
        r.rpush("mylist", "a")
        with self.assertRaises(ResponseError) as cm:
            r.get("mylist")
        self.assertTrue(str(cm.exception).startswith("WRONGTYPE "), str(cm.exception))
        with self.assertRaises(ResponseError) as cm:
            r.hset("mylist", "f", "v")
        self.assertIn("WRONGTYPE", str(cm.exception))
        r.set("s", "abc")
        with self.assertRaises(ResponseError) as cm:
            r.incr("s")
        self.assertEqual(str(cm.exception), "value is not an integer or out of range")
        with self.assertRaises(ResponseError) as cm:
            r.execute_command("NOSUCHCOMMAND", "x")
        self.assertIn("unknown command", str(cm.exception))
        with self.assertRaises(ResponseError) as cm:
            r.execute_command("GET")
        self.assertEqual(
            str(cm.exception), "wrong number of arguments for 'get' command"
        )
        # The connection is still usable after errors.
        self.assertEqual(r.get("s"), "abc")

    def test_pipeline_without_transaction(self):
        r = self.r
        with r.pipeline(transaction=False) as p:
            for i in range(200):
                p.set(f"pk:{i}", i)
            for i in range(200):
                p.get(f"pk:{i}")
            p.incr("pk-counter")
            p.rpush("pl", "x", "y")
            p.lrange("pl", 0, -1)
            res = p.execute()
        self.assertEqual(res[:200], [True] * 200)
        self.assertEqual(res[200:400], [str(i) for i in range(200)])
        self.assertEqual(res[400:], [1, 2, ["x", "y"]])
        self.assertEqual(r.dbsize(), 202)

    def test_pipeline_errors_in_the_middle(self):
        r = self.r
        r.set("str", "v")
        with r.pipeline(transaction=False) as p:
            p.set("before", 1).lpush("str", "x").set("after", 2)
            with self.assertRaises(ResponseError) as cm:
                p.execute()
            self.assertIn("WRONGTYPE", str(cm.exception))
        # Commands around the failing one still ran (no transaction).
        self.assertEqual(r.mget("before", "after"), ["1", "2"])
        with r.pipeline(transaction=False) as p:
            p.get("str").incr("str").get("after")
            res = p.execute(raise_on_error=False)
        self.assertEqual(res[0], "v")
        self.assertIsInstance(res[1], ResponseError)
        self.assertEqual(res[2], "2")

    def test_hash_round_trip(self):
        r = self.r
        self.assertEqual(r.hset("user:1", mapping={"name": "ada", "age": "36"}), 2)
        self.assertEqual(r.hset("user:1", "lang", "en"), 1)
        self.assertEqual(
            r.hgetall("user:1"), {"name": "ada", "age": "36", "lang": "en"}
        )
        self.assertEqual(r.hget("user:1", "name"), "ada")
        self.assertIsNone(r.hget("user:1", "nope"))
        self.assertEqual(r.hmget("user:1", ["name", "nope"]), ["ada", None])
        self.assertEqual(r.hincrby("user:1", "age", 1), 37)
        self.assertAlmostEqual(r.hincrbyfloat("user:1", "score", 1.5), 1.5)
        self.assertIs(r.hexists("user:1", "lang"), True)
        self.assertEqual(r.hdel("user:1", "lang", "nope"), 1)
        self.assertEqual(sorted(r.hkeys("user:1")), ["age", "name", "score"])
        self.assertEqual(r.hlen("user:1"), 3)
        self.assertEqual(r.hgetall("nope"), {})

    def test_hscan_iter(self):
        r = self.r
        fields = {f"f{i}": str(i) for i in range(1000)}
        r.hset("big-hash", mapping=fields)
        seen = dict(r.hscan_iter("big-hash", count=50))
        self.assertEqual(seen, fields)
        matched = dict(r.hscan_iter("big-hash", match="f99*"))
        self.assertEqual(set(matched), {"f99"} | {f"f99{i}" for i in range(10)})

    def test_list_round_trip(self):
        r = self.r
        self.assertEqual(r.rpush("q", "a", "b", "c"), 3)
        self.assertEqual(r.lpush("q", "z"), 4)
        self.assertEqual(r.lrange("q", 0, -1), ["z", "a", "b", "c"])
        self.assertEqual(r.llen("q"), 4)
        self.assertEqual(r.lindex("q", -1), "c")
        self.assertEqual(r.lpop("q"), "z")
        self.assertEqual(r.rpop("q", 2), ["c", "b"])
        self.assertEqual(r.lmove("q", "q2", "LEFT", "RIGHT"), "a")
        self.assertEqual(r.lrange("q2", 0, -1), ["a"])
        self.assertEqual(r.exists("q"), 0)
        self.assertIsNone(r.lpop("q"))
        self.assertEqual(list(r.blpop(["q", "q2"], timeout=1)), ["q2", "a"])
        self.assertIsNone(r.blpop(["q"], timeout=0.1))

    def test_blocking_pop_woken_by_another_client(self):
        other = client()
        try:
            result = {}

            def pop():
                result["v"] = self.r.brpop(["jobs"], timeout=5)

            t = threading.Thread(target=pop)
            t.start()
            # Wait (bounded) until the pop is blocked, then push from another connection.
            self.assertTrue(
                wait_until(lambda: other.info("clients")["blocked_clients"] == 1),
                "the BRPOP never blocked",
            )
            other.lpush("jobs", "job-1")
            t.join(timeout=10)
            self.assertFalse(t.is_alive())
            self.assertEqual(list(result["v"]), ["jobs", "job-1"])
        finally:
            other.close()

    def test_set_round_trip(self):
        r = self.r
        self.assertEqual(r.sadd("tags", "a", "b", "c", "a"), 3)
        self.assertEqual(r.smembers("tags"), {"a", "b", "c"})
        self.assertIsInstance(r.smembers("tags"), set)
        self.assertTrue(r.sismember("tags", "a"))
        self.assertFalse(r.sismember("tags", "z"))
        self.assertEqual([bool(x) for x in r.smismember("tags", ["a", "z"])], [True, False])
        r.sadd("other", "b", "c", "d")
        self.assertEqual(r.sinter("tags", "other"), {"b", "c"})
        self.assertEqual(r.sunion("tags", "other"), {"a", "b", "c", "d"})
        self.assertEqual(r.sdiff("tags", "other"), {"a"})
        self.assertEqual(r.scard("tags"), 3)
        self.assertEqual(r.srem("tags", "a", "nope"), 1)
        self.assertEqual(r.smembers("nope"), set())
        members = {f"m{i}" for i in range(600)}
        r.sadd("big-set", *members)
        self.assertEqual(set(r.sscan_iter("big-set", count=40)), members)

    def test_sorted_set_round_trip(self):
        r = self.r
        self.assertEqual(r.zadd("board", {"ann": 10, "bob": 20.5, "cid": -3}), 3)
        self.assertEqual(r.zrange("board", 0, -1), ["cid", "ann", "bob"])
        self.assertEqual(
            [tuple(x) for x in r.zrange("board", 0, -1, withscores=True)],
            [("cid", -3.0), ("ann", 10.0), ("bob", 20.5)],
        )
        for _, score in r.zrange("board", 0, -1, withscores=True):
            self.assertIsInstance(score, float)
        self.assertEqual(r.zscore("board", "bob"), 20.5)
        self.assertIsNone(r.zscore("board", "nobody"))
        self.assertEqual(r.zincrby("board", 5, "ann"), 15.0)
        self.assertEqual(r.zrank("board", "ann"), 1)
        self.assertEqual(r.zrevrank("board", "ann"), 1)
        self.assertEqual(r.zcard("board"), 3)
        self.assertEqual(r.zcount("board", 0, "+inf"), 2)
        self.assertEqual(r.zrangebyscore("board", "(0", 100), ["ann", "bob"])
        self.assertEqual(r.zrevrange("board", 0, 0), ["bob"])
        popped = r.zpopmin("board")
        if PROTOCOL == 3:
            self.assertEqual(popped, ["cid", -3.0])  # RESP3: one flat [member, score] pair
        else:
            self.assertEqual([tuple(x) for x in popped], [("cid", -3.0)])
        self.assertEqual(r.zadd("board", {"ann": 1}, xx=True, ch=True), 1)
        self.assertEqual(r.zmscore("board", ["ann", "x"]), [1.0, None])
        r.zadd("big-z", {f"m{i}": i for i in range(500)})
        scanned = dict(r.zscan_iter("big-z", count=30))
        self.assertEqual(scanned, {f"m{i}": float(i) for i in range(500)})

    def test_scan_iter(self):
        r = self.r
        with r.pipeline(transaction=False) as p:
            for i in range(1000):
                p.set(f"user:{i}", i)
            for i in range(100):
                p.set(f"order:{i}", i)
            p.hset("user-hash", "f", "v")
            p.execute()
        users = list(r.scan_iter(match="user:*", count=100))
        self.assertEqual(len(users), len(set(users)), "SCAN returned a key twice")
        self.assertEqual(set(users), {f"user:{i}" for i in range(1000)})
        everything = set(r.scan_iter())
        self.assertEqual(len(everything), 1101)
        self.assertEqual(set(r.scan_iter(_type="hash")), {"user-hash"})
        self.assertEqual(set(r.scan_iter(match="nomatch*")), set())
        self.assertEqual(sorted(r.keys("order:9*")), sorted(
            ["order:9"] + [f"order:9{i}" for i in range(10)]
        ))

    def test_expiry(self):
        r = self.r
        r.set("session", "data", ex=100)
        self.assertTrue(90 <= r.ttl("session") <= 100, r.ttl("session"))
        self.assertTrue(90_000 <= r.pttl("session") <= 100_000)
        self.assertIs(r.persist("session"), True)
        self.assertEqual(r.ttl("session"), -1)
        self.assertEqual(r.ttl("missing"), -2)
        self.assertIs(r.expire("session", 50), True)
        self.assertTrue(0 < r.ttl("session") <= 50)
        self.assertIs(r.expire("session", 500, gt=True), True)
        self.assertIs(r.expire("session", 10, gt=True), False)
        self.assertIs(r.expire("missing", 10), False)
        self.assertGreater(r.expiretime("session"), int(time.time()))
        r.setex("short", 100, "v")
        self.assertTrue(0 < r.ttl("short") <= 100)
        r.set("gone-soon", "v", px=50)
        self.assertTrue(
            wait_until(lambda: r.get("gone-soon") is None, limit=5),
            "a key with PX 50 was still there after 5 s",
        )
        self.assertEqual(r.exists("gone-soon"), 0)
        self.assertEqual(r.getex("session", ex=1000), "data")
        self.assertTrue(900 < r.ttl("session") <= 1000)

    def test_resp3_native_types(self):
        """With protocol=3 maps, sets and doubles arrive as RESP3 types (no callbacks applied)."""
        if PROTOCOL != 3:
            self.skipTest("RESP3 only")
        r = self.r
        r.hset("h", mapping={"a": "1", "b": "2"})
        r.sadd("s", "x", "y")
        r.zadd("z", {"m": 1.5, "n": 2})
        conn = r.connection_pool.get_connection()
        try:
            def raw(*args):
                conn.send_command(*args)
                return conn.read_response()

            self.assertEqual(raw("HGETALL", "h"), {"a": "1", "b": "2"})
            # redis-py hands RESP3 sets over as lists (its choice); the API turns them into sets.
            self.assertEqual(sorted(raw("SMEMBERS", "s")), ["x", "y"])
            self.assertEqual(raw("ZSCORE", "z", "m"), 1.5)
            self.assertIsInstance(raw("ZSCORE", "z", "m"), float)
            self.assertEqual(raw("ZRANGE", "z", 0, -1, "WITHSCORES"), [["m", 1.5], ["n", 2.0]])
            self.assertIsNone(raw("GET", "nope"))
            self.assertEqual(raw("ZINCRBY", "z", 1, "m"), 2.5)
            config = raw("CONFIG", "GET", "databases")
            self.assertEqual(config, {"databases": "16"})
        finally:
            r.connection_pool.release(conn)
        # And through the normal API.
        self.assertEqual(r.hgetall("h"), {"a": "1", "b": "2"})
        self.assertEqual(r.smembers("s"), {"x", "y"})
        self.assertEqual(r.zrange("z", 0, -1, withscores=True), [["m", 2.5], ["n", 2.0]][::-1])
        self.assertEqual(r.config_get("databases"), {"databases": "16"})


class Transactions(Base):
    def test_pipeline_transaction(self):
        r = self.r
        with r.pipeline(transaction=True) as p:
            p.set("acct:a", 100).set("acct:b", 0)
            p.decrby("acct:a", 30).incrby("acct:b", 30)
            p.mget("acct:a", "acct:b")
            res = p.execute()
        self.assertEqual(res, [True, True, 70, 30, ["70", "30"]])

    def test_transaction_runtime_error_keeps_other_commands(self):
        r = self.r
        r.set("str", "v")
        with r.pipeline() as p:
            p.set("t1", "1").lpush("str", "x").set("t2", "2")
            with self.assertRaises(ResponseError) as cm:
                p.execute()
            self.assertIn("WRONGTYPE", str(cm.exception))
        self.assertEqual(r.mget("t1", "t2"), ["1", "2"])
        with r.pipeline() as p:
            p.incr("str").get("t1")
            res = p.execute(raise_on_error=False)
        self.assertIsInstance(res[0], ResponseError)
        self.assertEqual(res[1], "1")

    def test_transaction_queue_error_aborts(self):
        r = self.r
        with r.pipeline() as p:
            p.set("never", "1")
            p.execute_command("NOSUCHCOMMAND")
            with self.assertRaises(ResponseError) as cm:
                p.execute()
            self.assertIn("unknown command", str(cm.exception))
        self.assertIsNone(r.get("never"))
        # Arity errors are detected at queue time too: EXECABORT.
        with r.pipeline() as p:
            p.set("never", "1")
            p.execute_command("GET")
            with self.assertRaises((ResponseError, ExecAbortError)):
                p.execute()
        self.assertIsNone(r.get("never"))

    def test_watch_and_transaction_helper(self):
        r = self.r
        r.set("balance", 10)

        def spend(pipe):
            current = int(pipe.get("balance"))
            pipe.multi()
            pipe.set("balance", current - 3)

        r.transaction(spend, "balance")
        self.assertEqual(r.get("balance"), "7")

    def test_watch_conflict_raises_watch_error(self):
        r = self.r
        other = client()
        try:
            r.set("stock", 5)
            with r.pipeline() as p:
                p.watch("stock")
                self.assertEqual(p.get("stock"), "5")
                other.set("stock", 4)  # another client changes the watched key
                p.multi()
                p.set("stock", 100)
                with self.assertRaises(WatchError):
                    p.execute()
            self.assertEqual(r.get("stock"), "4")
            # The transaction helper retries until it wins.
            attempts = []

            def bump(pipe):
                v = int(pipe.get("stock"))
                if not attempts:
                    other.incr("stock")
                attempts.append(v)
                pipe.multi()
                pipe.set("stock", v * 10)

            r.transaction(bump, "stock")
            self.assertEqual(attempts, [4, 5])
            self.assertEqual(r.get("stock"), "50")
        finally:
            other.close()

    def test_discard_via_reset(self):
        r = self.r
        with r.pipeline() as p:
            p.watch("k")
            p.multi()
            p.set("k", "queued")
            p.reset()  # sends DISCARD/UNWATCH as needed
        self.assertIsNone(r.get("k"))
        r = client(single_connection_client=True)
        self.addCleanup(r.close)
        self.assertEqual(r.execute_command("MULTI"), "OK")
        self.assertEqual(r.execute_command("APPEND", "k", "v"), "QUEUED")
        self.assertEqual(r.execute_command("DISCARD"), "OK")
        self.assertIsNone(r.get("k"))
        with self.assertRaises(ResponseError) as cm:
            r.execute_command("EXEC")
        self.assertEqual(str(cm.exception), "EXEC without MULTI")


if __name__ == "__main__":
    unittest.main(verbosity=2)
