"""The sliding-window rate limiter."""
from trove_clone.api import ratelimit
from trove_clone.tests.unit import base


class RateLimiterTest(base.TestCase):

    def test_window(self) -> None:
        self.conf.config(http_post_rate=2, http_mgmt_post_rate=1)
        limiter = ratelimit.RateLimiter()
        path = '/v1.0/p/instances'
        self.assertEqual(0, limiter.hit('p', 'POST', path, now=0.0))
        self.assertEqual(0, limiter.hit('p', 'POST', path, now=1.0))
        self.assertAlmostEqual(59.5, limiter.hit('p', 'POST', path, now=0.5))
        self.assertEqual(0, limiter.hit('q', 'POST', path, now=0.5))
        self.assertEqual(0, limiter.hit('p', 'POST', path, now=60.5))
        self.assertEqual(0, limiter.remaining('p', 'POST', '*', 2, now=60.5))
        self.assertEqual(0, limiter.hit('p', 'POST', '/v1.0/p/mgmt/x',
                                        now=0.0))
        self.assertGreater(limiter.hit('p', 'POST', '/v1.0/p/mgmt/x',
                                       now=1.0), 0)

    def test_unlimited(self) -> None:
        self.conf.config(http_get_rate=-1)
        limiter = ratelimit.RateLimiter()
        for _ in range(500):
            self.assertEqual(0, limiter.hit('p', 'GET', '/v1.0/p/x'))
        self.assertEqual(0, limiter.hit('p', 'OPTIONS', '/v1.0/p/x'))
        self.assertEqual(-1, limiter.remaining('p', 'GET', '*', -1))
