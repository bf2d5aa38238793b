"""redis-py's RedisCluster against a redis-lite cluster (static slot map) on 127.0.0.1.

REDIS_CLUSTER_PORTS is a comma-separated list of the nodes' ports. Run by tests/cluster.rs; by
hand, with three nodes started from deploy/cluster.map:

    REDIS_CLUSTER_PORTS=7001,7002,7003 tests/clients/python/.venv/bin/python \
        -m unittest -v tests/clients/python/test_redis_py_cluster.py
"""

import os
import unittest

import redis
from redis.cluster import ClusterNode, RedisCluster

PORTS = [int(p) for p in os.environ["REDIS_CLUSTER_PORTS"].split(",")]
TIMEOUT = 10  # seconds: every socket operation is bounded


def cluster(**kw):
    opts = dict(
        startup_nodes=[ClusterNode("127.0.0.1", PORTS[0])],
        decode_responses=True,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
    )
    opts.update(kw)
    return RedisCluster(**opts)


def node_client(port):
    return redis.Redis(
        host="127.0.0.1", port=port, decode_responses=True, socket_timeout=TIMEOUT
    )


class Cluster(unittest.TestCase):
    def setUp(self):
        for port in PORTS:
            with node_client(port) as c:
                c.flushall()
        self.rc = cluster()

    def tearDown(self):
        self.rc.close()

    def test_discovers_every_node_and_slot(self):
        nodes = self.rc.get_nodes()
        self.assertEqual(sorted(n.port for n in nodes), sorted(PORTS))
        self.assertEqual(len(self.rc.get_primaries()), 3)
        self.assertEqual(self.rc.keyslot("foo"), 12182)
        self.assertEqual(self.rc.cluster_keyslot("foo"), 12182)
        info = self.rc.cluster_info(target_nodes=RedisCluster.RANDOM)
        self.assertEqual(info["cluster_state"], "ok")

    def test_routes_each_key_to_its_owner(self):
        for i in range(200):
            self.assertTrue(self.rc.set(f"py:{i}", i))
        for i in range(200):
            self.assertEqual(self.rc.get(f"py:{i}"), str(i))
        # Each key is stored on the node that serves its slot, and only there.
        for i in range(0, 200, 9):
            key = f"py:{i}"
            owner = self.rc.get_node_from_key(key)
            for port in PORTS:
                with node_client(port) as c:
                    if port == owner.port:
                        self.assertEqual(c.get(key), str(i))
                    else:
                        with self.assertRaises(redis.ResponseError) as e:
                            c.get(key)
                        self.assertIn("MOVED", str(e.exception))
        total = sum(node_client(p).dbsize() for p in PORTS)
        self.assertEqual(total, 200)

    def test_pipeline_within_a_slot_and_across_slots(self):
        with self.rc.pipeline() as p:
            p.set("{u1}:name", "ann").incr("{u1}:visits").incr("{u1}:visits")
            p.get("{u1}:name")
            self.assertEqual(p.execute(), [True, 1, 2, "ann"])
        # redis-py splits a cluster pipeline per node.
        with self.rc.pipeline() as p:
            for i in range(50):
                p.set(f"pipe:{i}", i)
            self.assertEqual(p.execute(), [True] * 50)
        self.assertEqual(
            self.rc.mget_nonatomic([f"pipe:{i}" for i in range(50)]),
            [str(i) for i in range(50)],
        )
        self.assertEqual(self.rc.mget("{u1}:name", "{u1}:visits"), ["ann", "2"])

    def test_errors_surface(self):
        self.rc.set("{e}s", "x")
        with self.assertRaises(redis.ResponseError) as e:
            self.rc.incr("{e}s")
        self.assertIn("not an integer", str(e.exception))
        self.rc.rpush("{e}l", "a", "b")
        with self.assertRaises(redis.ResponseError) as e:
            self.rc.get("{e}l")
        self.assertIn("WRONGTYPE", str(e.exception))
        with node_client(PORTS[0]) as c:
            with self.assertRaises(redis.ResponseError) as e:
                c.mset({"a": 1, "b": 2})
            self.assertIn("CROSSSLOT", str(e.exception))


if __name__ == "__main__":
    unittest.main()
