"""Generated protobuf and gRPC modules for switchyard.v1.

Everything else in this directory is copied from gen/python by
scripts/generate.sh; this file is the only hand-written one.
"""
