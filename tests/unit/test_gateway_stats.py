"""One reading of the engine's stats stream, as ``docker stats`` would show it."""

from __future__ import annotations

from hermes_tui.engine.gateway import StatsSample, stats_sample


def reading(total: int, pre_total: int, system: int, pre_system: int) -> dict:
    return {
        "read": "2026-11-27T09:30:01Z",
        "cpu_stats": {"cpu_usage": {"total_usage": total}, "system_cpu_usage": system,
                      "online_cpus": 2},
        "precpu_stats": {"cpu_usage": {"total_usage": pre_total},
                         "system_cpu_usage": pre_system},
        "memory_stats": {"usage": 60_000_000, "limit": 2_000_000_000,
                         "stats": {"inactive_file": 10_000_000}},
    }


def test_cpu_is_percent_of_one_core_and_memory_leaves_out_dropable_cache():
    sample = stats_sample(reading(1_500, 1_000, 20_000, 10_000))
    assert sample == StatsSample(cpu_percent=10.0, memory=50_000_000,
                                 memory_limit=2_000_000_000)


def test_the_first_reading_has_nothing_to_compare_and_gives_no_sample():
    first = reading(1_000, 0, 10_000, 0)
    del first["precpu_stats"]["system_cpu_usage"]
    assert stats_sample(first) is None
