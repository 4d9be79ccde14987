"""Who the demo patients are and when they come: traits, courses and visit dates.

Pure Python on a seeded ``random.Random``; ``kapp.services.demo_session`` turns each
visit into rows and ``kapp.services.demo`` writes them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from kapp.domain.enums import CourseKind, DissociationDescriptor, Indication, Route, Sex

DEPRESSION = (Indication.TRD, Indication.DEPRESSION_SI)
PAIN = (Indication.CRPS, Indication.CHRONIC_PAIN)

# How far back the oldest demo patient started, in days.
HISTORY_DAYS = 1460
# One patient in this many is a long-term maintenance patient seen every week or so since
# the clinic opened: about 200 sessions, the heaviest patient page a clinic has.
LONG_TERM_EVERY = 1000
LONG_TERM_GAP_DAYS = (5, 9)


@dataclass(slots=True)
class Traits:
    """What stays the same for a patient across sessions."""

    indication: Indication
    sex: Sex
    age: int
    weight_kg: float
    enters_lb: bool
    route: Route
    uses_bag: bool  # 100 mL bag, else 1 mg/mL syringe
    sys_base: float
    dia_base: float
    hr_base: float
    bp_reactivity: float  # typical systolic rise at the peak, mmHg
    dissociation: float  # typical intensity, 0-10
    responder: bool
    remitter: bool
    pain_responder: bool
    phq9_base: int
    gad7_base: int
    nrs_base: int
    start_mg_per_kg: float
    descriptors: tuple[str, ...]  # what this patient tends to report


@dataclass(slots=True)
class CoursePlan:
    kind: CourseKind
    dates: list[date]
    planned_sessions: int
    ended: bool
    number: int  # 0 = the induction, then in order
    scores_from: float = 1.0  # PHQ-9 as a fraction of the first baseline at the start
    scores_to: float = 1.0  # ... and at the course's last visit
    pain_from: float = 1.0  # pain NRS, the same way
    pain_to: float = 1.0


def clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def make_traits(rng: random.Random) -> Traits:
    indication = rng.choices(
        (Indication.TRD, Indication.DEPRESSION_SI, Indication.CRPS, Indication.CHRONIC_PAIN),
        (60, 15, 12, 13),
    )[0]
    sex = rng.choices((Sex.FEMALE, Sex.MALE, Sex.INTERSEX, Sex.UNKNOWN), (58, 40, 1, 1))[0]
    mean_weight = 72.0 if sex is Sex.FEMALE else 84.0
    depressed = indication in DEPRESSION
    esketamine = depressed and rng.random() < 0.08
    responder = rng.random() < 0.55
    phq9 = rng.randint(16, 26) if indication is Indication.DEPRESSION_SI else rng.randint(13, 25)
    if not depressed:
        phq9 = rng.randint(6, 16)
    return Traits(
        indication=indication,
        sex=sex,
        age=rng.randint(20, 75),
        weight_kg=round(clip(rng.gauss(mean_weight, 14), 45, 150), 1),
        enters_lb=rng.random() < 0.15,
        route=Route.INTRANASAL if esketamine else Route.IV,
        uses_bag=rng.random() < 0.4,
        sys_base=clip(rng.gauss(122, 9), 102, 142),
        dia_base=clip(rng.gauss(78, 6), 62, 90),
        hr_base=clip(rng.gauss(74, 8), 58, 95),
        bp_reactivity=clip(rng.gauss(12, 5), 3, 28),
        dissociation=clip(rng.gauss(4.5, 1.8), 0.5, 8.5),
        responder=responder,
        remitter=responder and rng.random() < 0.5,
        pain_responder=rng.random() < 0.5,
        phq9_base=phq9,
        gad7_base=rng.randint(7, 18) if depressed else rng.randint(3, 12),
        nrs_base=rng.randint(6, 9),
        start_mg_per_kg=0.4 if rng.random() < 0.2 else 0.5,
        descriptors=tuple(rng.sample(list(DissociationDescriptor), 4)),
    )


def _next_weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def make_courses(rng: random.Random, t: Traits, first_day: date, today: date,
                 *, long_term: bool = False) -> list[CoursePlan]:
    """The induction, then perhaps maintenance or a booster, up to the first future visit.

    Past visits fall before ``today``; visits from ``today`` on are bookings (planned).
    A ``long_term`` patient always goes on to weekly-ish maintenance and never stops.
    """
    count = rng.choices((6, 4, 5, 7, 8), weights=(75, 5, 8, 7, 5))[0]
    day = _next_weekday(first_day)
    dates = [day]
    for _ in range(count - 1):
        day = _next_weekday(day + timedelta(days=rng.randint(2, 4)))
        dates.append(day)
    ended = dates[-1] < today
    response = t.responder and t.indication in DEPRESSION
    end_ratio = rng.uniform(0.15, 0.45) if response else rng.uniform(0.75, 1.05)
    pain_end = rng.uniform(0.35, 0.65) if t.pain_responder else rng.uniform(0.8, 1.0)
    courses = [
        CoursePlan(CourseKind.INDUCTION, dates, count, ended, 0, 1.0, end_ratio, 1.0, pain_end)
    ]
    if not ended:
        return courses
    follow = rng.random()
    go_on = 1.0 if long_term else 0.85 if t.responder else 0.55
    gap = LONG_TERM_GAP_DAYS if long_term else (21, 42)
    if follow < go_on:
        dates = []
        day = _next_weekday(courses[0].dates[-1] + timedelta(days=rng.randint(*gap)))
        stopped = False
        while True:
            dates.append(day)
            if day >= today:
                break
            if not long_term and len(dates) > 2 and rng.random() < 0.02:
                stopped = True
                break
            day = _next_weekday(day + timedelta(days=rng.randint(*gap)))
        courses.append(
            CoursePlan(
                CourseKind.MAINTENANCE, dates, len(dates), stopped, 1, end_ratio,
                clip(end_ratio + rng.uniform(-0.1, 0.15), 0.1, 1.1),
                pain_end, clip(pain_end + rng.uniform(-0.1, 0.1), 0.2, 1.0),
            )
        )
    elif follow < go_on + 0.15:
        start = _next_weekday(courses[0].dates[-1] + timedelta(days=rng.randint(60, 180)))
        if start < today + timedelta(days=30):
            n = rng.randint(2, 3)
            dates = [start]
            for _ in range(n - 1):
                dates.append(_next_weekday(dates[-1] + timedelta(days=rng.randint(3, 7))))
            relapse = clip(end_ratio + rng.uniform(0.25, 0.5), 0.4, 1.1)
            courses.append(
                CoursePlan(
                    CourseKind.BOOSTER, dates, n, dates[-1] < today, 1, relapse,
                    clip(end_ratio + rng.uniform(0, 0.1), 0.1, 1.1),
                    clip(pain_end + 0.3, 0.5, 1.0), pain_end,
                )
            )
    # Keep every past visit; of the future ones keep the induction's bookings and only
    # the next maintenance or booster visit.
    for course in courses[1:]:
        future = [d for d in course.dates if d >= today]
        course.dates = [d for d in course.dates if d < today] + future[:1]
        if course.kind is CourseKind.MAINTENANCE:
            course.planned_sessions = len(course.dates)
    return [c for c in courses if c.dates]
