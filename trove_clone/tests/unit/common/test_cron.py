"""Cron expressions: fields, steps, lists, the day-of-month/day-of-week
rule, and the next match strictly after a moment."""
import datetime

from trove_clone.common import cron
from trove_clone.tests.unit import base

D = datetime.datetime


class CronTest(base.TestCase):

    def next(self, expression: str, moment: D) -> D:
        return cron.parse(expression).next_after(moment)

    def test_next_match(self) -> None:
        self.assertEqual(D(2026, 12, 7, 3, 0),
                         self.next('0 3 * * *', D(2026, 12, 7, 2, 59, 30)))
        # Strictly after: the same minute is the next day's.
        self.assertEqual(D(2026, 12, 8, 3, 0),
                         self.next('0 3 * * *', D(2026, 12, 7, 3, 0)))
        self.assertEqual(D(2026, 12, 7, 15, 15),
                         self.next('*/15 * * * *', D(2026, 12, 7, 15, 0)))
        self.assertEqual(D(2026, 12, 7, 15, 1),
                         self.next('* * * * *', D(2026, 12, 7, 15, 0, 59)))
        self.assertEqual(D(2027, 1, 1, 0, 0),
                         self.next('0 0 1 1 *', D(2026, 12, 7)))
        # 2026-12-07 is a Monday: Sunday is 0 and 7.
        self.assertEqual(D(2026, 12, 13, 4, 30),
                         self.next('30 4 * * 0', D(2026, 12, 7)))
        self.assertEqual(D(2026, 12, 13, 4, 30),
                         self.next('30 4 * * 7', D(2026, 12, 7)))
        self.assertEqual(D(2026, 12, 9, 10, 0),
                         self.next('0 10,22 * * 1-5/2', D(2026, 12, 7, 23)))
        # Both days restricted: either matches (the 10th, or a Tuesday).
        self.assertEqual(D(2026, 12, 8, 0, 0),
                         self.next('0 0 10 * 2', D(2026, 12, 7, 1)))
        self.assertEqual(D(2028, 2, 29, 0, 0),
                         self.next('0 0 29 2 *', D(2026, 12, 7)))

    def test_refusals_name_the_field(self) -> None:
        for expression, words in (
                ('0 3 * *', '4 fields'),
                ('60 * * * *', 'minute'),
                ('* 24 * * *', 'hour'),
                ('* * 0 * *', 'day of month'),
                ('* * * 13 *', 'month'),
                ('* * * * 8', 'day of week'),
                ('*/0 * * * *', 'step'),
                ('5-1 * * * *', 'minute'),
                ('MON * * * *', 'minute'),
                ('0 0 30 2 *', 'never')):
            error = self.assertRaises(cron.CronError, cron.parse,
                                      expression)
            self.assertIn(words, str(error), expression)
        self.assertRaises(cron.CronError, cron.parse, None)
