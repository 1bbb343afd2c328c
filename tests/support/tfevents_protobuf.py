"""Reads a TensorBoard event file the way TensorBoard does, with Google's own
protocol-buffer parser (Debian's python3-protobuf) and CRC-32C (python3-crcmod),
independently of semifer's writer and of the C++ test reader.

    python3 tfevents_protobuf.py EVENTS_FILE

Prints one JSON object per event: wall_time, step, file_version (or null),
scalars {tag: simple_value}. Exits 1 with a message naming the record on a
framing, CRC or parse error. The message types are those of TensorFlow's
tensorflow/core/util/event.proto and framework/summary.proto, reduced to
the fields a scalar log uses; they are built here at run time, so no protoc
is needed. Exit 77 when python3-protobuf or python3-crcmod is missing.
"""

import json
import struct
import sys

try:
    import crcmod.predefined
    from google.protobuf import descriptor_pb2, descriptor_pool
    from google.protobuf import message_factory
except ImportError as e:  # the test skips
    print(f"missing: {e}", file=sys.stderr)
    sys.exit(77)

F = descriptor_pb2.FieldDescriptorProto


def build_event_class():
    f = descriptor_pb2.FileDescriptorProto(name="semifer_check_event.proto",
                                           package="tensorflow",
                                           syntax="proto3")

    def field(msg, name, number, kind, label=F.LABEL_OPTIONAL, type_name=None,
              oneof=None):
        x = msg.field.add(name=name, number=number, type=kind, label=label)
        if type_name:
            x.type_name = type_name
        if oneof is not None:
            x.oneof_index = oneof

    value = f.message_type.add(name="Value")  # Summary.Value, flattened
    value.oneof_decl.add(name="value")
    field(value, "node_name", 7, F.TYPE_STRING)
    field(value, "tag", 1, F.TYPE_STRING)
    field(value, "simple_value", 2, F.TYPE_FLOAT, oneof=0)
    field(value, "obsolete_old_style_histogram", 3, F.TYPE_BYTES, oneof=0)
    summary = f.message_type.add(name="Summary")
    field(summary, "value", 1, F.TYPE_MESSAGE, F.LABEL_REPEATED,
          ".tensorflow.Value")
    event = f.message_type.add(name="Event")
    event.oneof_decl.add(name="what")
    field(event, "wall_time", 1, F.TYPE_DOUBLE)
    field(event, "step", 2, F.TYPE_INT64)
    field(event, "file_version", 3, F.TYPE_STRING, oneof=0)
    field(event, "graph_def", 4, F.TYPE_BYTES, oneof=0)
    field(event, "summary", 5, F.TYPE_MESSAGE, type_name=".tensorflow.Summary",
          oneof=0)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(f)
    desc = pool.FindMessageTypeByName("tensorflow.Event")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def masked(crc):
    # TFRecord's masking of a CRC-32C (tensorflow/core/lib/hash/crc32c.h).
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def main(path):
    crc32c = crcmod.predefined.mkCrcFun("crc-32c")
    Event = build_event_class()
    data = open(path, "rb").read()
    pos, record = 0, 0
    while pos < len(data):
        record += 1
        where = f"{path}: record {record} at byte {pos}"
        if len(data) - pos < 12:
            sys.exit(f"{where}: a header cut short")
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if masked(crc32c(header)) != length_crc:
            sys.exit(f"{where}: the length's CRC does not match")
        body = data[pos + 12:pos + 12 + length]
        if len(body) != length or len(data) < pos + 16 + length:
            sys.exit(f"{where}: a record cut short")
        (body_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        if masked(crc32c(body)) != body_crc:
            sys.exit(f"{where}: the data's CRC does not match")
        pos += 16 + length
        event = Event()
        try:
            event.ParseFromString(body)
        except Exception as e:  # google.protobuf.message.DecodeError
            sys.exit(f"{where}: not an Event: {e}")
        # Every byte belongs to a known field (no unknown or misnumbered
        # fields): the parsed message re-encodes to the same length.
        if event.ByteSize() != len(body):
            sys.exit(f"{where}: {len(body)} bytes, of which the Event's "
                     f"fields hold {event.ByteSize()}")
        which = event.WhichOneof("what")
        print(json.dumps({
            "wall_time": event.wall_time,
            "step": event.step,
            "file_version": event.file_version if which == "file_version" else None,
            "scalars": {v.tag: v.simple_value for v in event.summary.value
                        if v.WhichOneof("value") == "simple_value"},
        }))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
