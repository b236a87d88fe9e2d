"""Five-field cron expressions (minute hour day-of-month month
day-of-week, in UTC) and the next moment one matches.

Each field is ``*``, a number, a range ``a-b``, any of those with a step
``/n``, or a comma-separated list of them; day of week 0-7 (0 and 7 are
Sunday). As in cron, when both day fields are restricted a day matches
either. Names (``MON``, ``JAN``) and ``@daily`` shortcuts are not taken.
"""
import dataclasses
import datetime

#: (name, lowest, highest) of the five fields.
FIELDS = (('minute', 0, 59), ('hour', 0, 23), ('day of month', 1, 31),
          ('month', 1, 12), ('day of week', 0, 7))
#: How far ahead a match is looked for (Feb 29 on a Monday: 28 years).
HORIZON_DAYS = 366 * 29


class CronError(ValueError):
    """The expression is not one this module takes; the message says
    which field and why."""


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(','):
        body, _slash, step_text = part.partition('/')
        step = 1
        if _slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise CronError('%s: the step of %r is not a positive '
                                'number' % (name, part))
            step = int(step_text)
        if body == '*':
            start, end = low, high
        else:
            first, dash, last = body.partition('-')
            if not first.isdigit() or (dash and not last.isdigit()):
                raise CronError('%s: %r is not *, a number or a range'
                                % (name, part))
            start = int(first)
            end = int(last) if dash else (high if _slash else start)
        if not low <= start <= end <= high:
            raise CronError('%s: %r is outside %d-%d (or a backward range)'
                            % (name, part, low, high))
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclasses.dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    def _day_matches(self, day: datetime.date) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days
        # Python: Monday 0; cron: Sunday 0.
        in_week = (day.weekday() + 1) % 7 in self.weekdays
        if self.any_day or self.any_weekday:
            return in_month and in_week
        return in_month or in_week

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        """The first matching minute strictly after ``moment`` (naive
        UTC).

        :raises CronError: when none comes within HORIZON_DAYS (e.g.
            February 30)
        """
        start = moment.replace(second=0, microsecond=0) + \
            datetime.timedelta(minutes=1)
        day = start.date()
        for _ in range(HORIZON_DAYS):
            if self._day_matches(day):
                first = start if day == start.date() else None
                for hour in sorted(self.hours):
                    if first and hour < first.hour:
                        continue
                    for minute in sorted(self.minutes):
                        if first and hour == first.hour and \
                                minute < first.minute:
                            continue
                        return datetime.datetime.combine(
                            day, datetime.time(hour, minute))
            day += datetime.timedelta(days=1)
        raise CronError('the expression never matches a date')


def parse(expression: str) -> Schedule:
    """The schedule of a five-field expression.

    :raises CronError: naming the field that is wrong
    """
    if not isinstance(expression, str):
        raise CronError('a cron expression is text')
    parts = expression.split()
    if len(parts) != 5:
        raise CronError('%r has %d fields, not 5 (minute hour day-of-month '
                        'month day-of-week)' % (expression, len(parts)))
    sets = [_field(text, *spec) for text, spec in zip(parts, FIELDS)]
    weekdays = frozenset(day % 7 for day in sets[4])
    schedule = Schedule(sets[0], sets[1], sets[2], sets[3], weekdays,
                        any_day=parts[2] == '*', any_weekday=parts[4] == '*')
    schedule.next_after(datetime.datetime(2000, 1, 1))
    return schedule
