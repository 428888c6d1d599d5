"""Generated from proto/jixiao/v1 by scripts/gen_proto.py. Do not edit."""
