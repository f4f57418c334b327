"""Dispatch: claims outbox ops, calls their sink, retries, dead-letters; the only writer to the outside."""

from bridge.dispatch.dispatcher import Dispatcher, DispatchStats
from bridge.dispatch.sink import BatchSink, CheckingSink, Sink

__all__ = ["BatchSink", "CheckingSink", "DispatchStats", "Dispatcher", "Sink"]
