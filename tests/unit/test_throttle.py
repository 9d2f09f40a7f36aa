"""The rolling-window throttle driven by a hand-moved clock: when each request may start after
starts, restamps (a connection that took time to open) and penalties (a 429). No real sleeping."""

from __future__ import annotations

import pytest

from cja_source.throttle import RollingWindowThrottle


class FakeClock:
    """Time that moves only when the throttle sleeps or a step says so."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


# Steps: "go" acquires a slot (and records the time it started), a number lets time pass,
# ("restamp", i) restamps the i-th slot, ("penalize", s) is a 429 that asked for s seconds.
Step = str | float | tuple[str, float]

CASES = [
    # max_requests, window_seconds, margin, steps -> start time of each "go"
    pytest.param(3, 4.0, 0.0, ["go", "go", "go"], [0.0, 0.0, 0.0], id="max_requests starts go at once"),
    pytest.param(
        2, 4.0, 0.0, ["go", 1.0, "go", "go"], [0.0, 1.0, 4.0], id="one more waits until the oldest leaves"
    ),
    pytest.param(
        2,
        4.0,
        0.0,
        ["go", 1.0, "go", "go", "go"],
        [0.0, 1.0, 4.0, 5.0],
        id="then each waits for the next oldest",
    ),
    pytest.param(1, 4.0, 0.5, ["go", "go"], [0.0, 4.5], id="the margin lengthens the window"),
    pytest.param(1, 4.0, 0.0, ["go", 4.0, "go"], [0.0, 4.0], id="a start a full window old no longer counts"),
    pytest.param(
        1,
        4.0,
        0.0,
        ["go", 2.0, ("restamp", 0), "go"],
        [0.0, 6.0],
        id="a restamped slot holds the window from then",
    ),
    pytest.param(
        2,
        3.0,
        0.0,
        ["go", 4.0, "go", ("restamp", 0), "go"],
        [0.0, 4.0, 7.0],
        id="a slot whose window passed while connecting counts again",
    ),
    pytest.param(
        2,
        8.0,
        0.0,
        ["go", "go", 4.0, ("restamp", 0), "go"],
        [0.0, 0.0, 8.0],
        id="a restamp keeps the oldest slot first",
    ),
    pytest.param(
        3, 4.0, 0.0, [("penalize", 0.0), "go"], [4.0], id="a 429 keeps every request off a full window"
    ),
    pytest.param(3, 4.0, 0.0, [("penalize", 10.0), "go"], [10.0], id="a 429 asking longer is waited out"),
    pytest.param(3, 4.0, 0.0, [("penalize", 1.0), "go"], [4.0], id="a 429 asking less still waits a window"),
    pytest.param(
        2, 4.0, 0.0, ["go", 1.0, ("penalize", 0.0), "go"], [0.0, 5.0], id="a 429 counts from when it came"
    ),
]


@pytest.mark.parametrize(("max_requests", "window", "margin", "steps", "starts"), CASES)
def test_when_requests_start(
    max_requests: int, window: float, margin: float, steps: list[Step], starts: list[float]
) -> None:
    clock = FakeClock()
    throttle = RollingWindowThrottle(max_requests, window, margin, clock=clock, sleep=clock.sleep)
    slots: list[list[float]] = []
    started: list[float] = []
    for step in steps:
        if isinstance(step, str):  # "go"
            slots.append(throttle.acquire())
            started.append(clock.now)
        elif isinstance(step, float):
            clock.now += step
        elif step[0] == "restamp":
            throttle.restamp(slots[int(step[1])])
        else:
            throttle.penalize(step[1])
    assert started == starts
    assert throttle.waited_seconds == clock.slept  # what it reports waiting is what it slept


@pytest.mark.parametrize(
    ("max_requests", "window"),
    [
        pytest.param(0, 6.0, id="no request per window is refused"),
        pytest.param(1, 0.0, id="an empty window is refused"),
        pytest.param(1, -1.0, id="a negative window is refused"),
    ],
)
def test_invalid_limits(max_requests: int, window: float) -> None:
    with pytest.raises(ValueError, match="max_requests >= 1 and window_seconds > 0"):
        RollingWindowThrottle(max_requests, window)
