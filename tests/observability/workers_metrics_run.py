"""Run by test_metrics.py in a process of its own (it names PROMETHEUS_MULTIPROC_DIR): a
supervisor's WorkersMetrics, two spawned workers counting, a scrape, one worker's death."""

import json
import multiprocessing
import os
import urllib.request


def worker(evaluations: int, queued: int, done) -> None:
    from jixiao.observability import metrics

    metrics.enable()
    for _ in range(evaluations):
        metrics.evaluated("Evaluate", "p", "1.0.0", "A")
        metrics.rpc_finished("Evaluate", "OK", 0.001)
    metrics.decision_log_queue_depth(queued)
    metrics.active_versions({"p": "1.0.0"})
    done.send(os.getpid())
    done.recv()  # stay alive until told


def scrape(port: int) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def total(samples: dict, name: str, **labels) -> float:
    return sum(v for found, v in samples.get(name, []) if all(found.get(k) == w for k, w in labels.items()))


if __name__ == "__main__":
    from jixiao.observability import metrics
    from jixiao.observability.exposition import WorkersMetrics

    watched = WorkersMetrics("127.0.0.1", 0)
    folder = watched.path
    # A new folder: only the supervisor's own files (its restart counter) are there yet.
    new_and_empty = (os.environ["PROMETHEUS_MULTIPROC_DIR"] == folder
                     and all(name.endswith(f"_{os.getpid()}.db") for name in os.listdir(folder)))
    context = multiprocessing.get_context("spawn")
    workers = []
    for evaluations, queued in ((3, 5), (4, 7)):
        mine, theirs = context.Pipe()
        process = context.Process(target=worker, args=(evaluations, queued, theirs))
        process.start()
        if not mine.poll(30):
            raise SystemExit("a worker did not start")
        mine.recv()
        workers.append((process, mine))
    metrics.worker_restarted()
    samples = scrape(watched.endpoint.port)
    found = {
        "evaluations": total(samples, "jixiao_evaluations_total", pack="p"),
        "rpc_count": total(samples, "jixiao_rpc_duration_seconds_count", method="Evaluate", code="OK"),
        "rpc_le_0.005": total(samples, "jixiao_rpc_duration_seconds_bucket", method="Evaluate", code="OK",
                              le="0.005"),
        "queue_depth": total(samples, "jixiao_decision_log_queue_depth"),
        "restarts": total(samples, "jixiao_worker_restarts_total"),
        "active": [v for _, v in samples.get("jixiao_active_version", [])],
        "folder_was_new_and_empty": new_and_empty,
    }
    first, pipe = workers[0]
    pipe.send("stop")
    first.join()
    watched.worker_died(first.pid)
    samples = scrape(watched.endpoint.port)
    found["after_death"] = {"evaluations": total(samples, "jixiao_evaluations_total", pack="p"),
                            "queue_depth": total(samples, "jixiao_decision_log_queue_depth")}
    workers[1][1].send("stop")
    workers[1][0].join()
    watched.close()
    found["folder_removed"] = not os.path.exists(folder)
    print(json.dumps(found))
