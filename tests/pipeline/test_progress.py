from pipeline.progress import ProgressClock


def test_a_line_every_interval_with_count_and_rate():
    now = [0.0]
    clock = ProgressClock(every=5.0, clock=lambda: now[0])
    lines = []
    for _ in range(12):
        now[0] += 1.0
        lines.append(clock.tick())
    said = [x for x in lines if x]
    assert said == ["5 so far (1.0/s)", "10 so far (1.0/s)"]
