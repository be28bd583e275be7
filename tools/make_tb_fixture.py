#!/usr/bin/env python3
"""Writes tests/fixtures/tensorboard/reference.tfevents and reference.json: a small event
file made by TensorBoard's own Python writer and protobuf classes, and the scalars it holds,
as an independent reference for omnirm's reader (tests/unit/io/event_file_test.cpp).

Run by hand (needs the tensorboard package, see tools/setup.sh):
    ~/.local/share/omnirm/venv/bin/python tools/make_tb_fixture.py

The file holds the file_version event, three events of scalars (one with several values, a
multi-byte step), a SessionLog START (a restart) and a SessionLog CHECKPOINT, and events and
values omnirm does not use and must skip: a log message, a value with plugin metadata and a
tensor instead of a simple_value, a value whose metadata precedes its simple_value.
"""
import json
import pathlib

from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tensorboard"


def scalar_event(wall_time, step, values):
    event = event_pb2.Event(wall_time=wall_time, step=step)
    for tag, value in values:
        event.summary.value.add(tag=tag, simple_value=value)
    return event


def main():
    events = [event_pb2.Event(wall_time=1700000000.25, file_version="brain.Event:2")]
    events.append(scalar_event(1700000001.5, 1, [("loss", 0.6931), ("accuracy", 0.5)]))
    events.append(
        event_pb2.Event(
            wall_time=1700000002.0,
            step=1,
            log_message=event_pb2.LogMessage(level=event_pb2.LogMessage.INFO, message="hello"),
        )
    )
    events.append(
        event_pb2.Event(
            wall_time=1700000002.5,
            step=300,
            session_log=event_pb2.SessionLog(
                status=event_pb2.SessionLog.CHECKPOINT, checkpoint_path="ckpt/300"
            ),
        )
    )
    events.append(
        event_pb2.Event(
            wall_time=1700000002.75,
            step=300,
            session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START, msg="restart"),
        )
    )
    mixed = scalar_event(1700000003.125, 300, [("eval/accuracy/task/t2t", 0.875)])
    tensor_value = mixed.summary.value.add(tag="histogram_like")
    tensor_value.metadata.plugin_data.plugin_name = "scalars"
    tensor_value.tensor.CopyFrom(tensor_pb2.TensorProto(dtype=1, float_val=[2.0]))
    with_metadata = mixed.summary.value.add(tag="lr", simple_value=0.001)
    with_metadata.metadata.display_name = "learning rate"
    events.append(mixed)
    events.append(scalar_event(1700000004.0, 1 << 40, [("loss", -1.5e-7), ("tokens_per_s", 123456.0)]))

    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "reference.tfevents", "wb") as f:
        writer = RecordWriter(f)
        for event in events:
            writer.write(event.SerializeToString())

    expected = []
    for event in events:
        scalars = [
            {"tag": v.tag, "value": v.simple_value}
            for v in event.summary.value
            if v.WhichOneof("value") == "simple_value"
        ]
        expected.append(
            {
                "wall_time": event.wall_time,
                "step": event.step,
                "file_version": event.file_version,
                "session_start": event.session_log.status == event_pb2.SessionLog.START,
                "scalars": scalars,
            }
        )
    with open(OUT / "reference.json", "w") as f:
        json.dump({"events": expected}, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT / 'reference.tfevents'} ({len(events)} events)")


if __name__ == "__main__":
    main()
