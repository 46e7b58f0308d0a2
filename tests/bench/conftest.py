from tests.builders.stream_fixtures import api, start_consumer, stream

__all__ = ["api", "start_consumer", "stream"]
