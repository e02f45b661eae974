"""Building request messages from Python values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, TypeVar, Union

from google.protobuf import json_format
from google.protobuf.message import Message

from switchyard.v1 import chat_pb2, embeddings_pb2

__all__ = ["ChatParams", "MessageLike", "chat_request", "embeddings_request"]

# A chat message as a generated ChatMessage or as a dict in the proto's
# field names: {"role": "user", "content": "Hi"}.
MessageLike = Union[chat_pb2.ChatMessage, Mapping[str, Any]]


class ChatParams(TypedDict, total=False):
    """Optional fields of CreateChatCompletionRequest, as keyword arguments.

    Message-typed fields take the generated message or a dict of its fields;
    ``tool_choice`` also takes a mode string ("auto", "none", "required").
    ``metadata`` is request metadata forwarded to the gateway (not gRPC call
    metadata). None leaves a field unset, so optional values pass through.
    """

    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    max_completion_tokens: int | None
    n: int | None
    stop: Sequence[str] | None
    seed: int | None
    presence_penalty: float | None
    frequency_penalty: float | None
    tools: Sequence[chat_pb2.Tool | Mapping[str, Any]] | None
    tool_choice: chat_pb2.ToolChoice | Mapping[str, Any] | str | None
    response_format: chat_pb2.ResponseFormat | Mapping[str, Any] | None
    user: str | None
    metadata: Mapping[str, str] | None
    stream_options: chat_pb2.StreamOptions | Mapping[str, Any] | None
    parallel_tool_calls: bool | None
    logit_bias: Mapping[str, float] | None
    logprobs: bool | None
    top_logprobs: int | None
    reasoning_effort: str | None
    extra: Mapping[str, Any] | None
    switchyard: chat_pb2.RequestOptions | Mapping[str, Any] | None


_M = TypeVar("_M", bound=Message)


def _parse(value: Mapping[str, Any], into: _M, where: str) -> _M:
    try:
        json_format.ParseDict(dict(value), into)
    except json_format.ParseError as e:
        raise ValueError(f"{where}: {e}") from e
    return into


def _message(m: MessageLike, i: int) -> chat_pb2.ChatMessage:
    if isinstance(m, chat_pb2.ChatMessage):
        return m
    if isinstance(m, Mapping):
        return _parse(m, chat_pb2.ChatMessage(), f"messages[{i}]")
    raise TypeError(f"messages[{i}]: want a ChatMessage or a dict, got {type(m).__name__}")


def _set_fields(req: Message, params: Mapping[str, Any], reserved: frozenset[str]) -> None:
    fields = req.DESCRIPTOR.fields_by_name
    for name, value in params.items():
        field = fields.get(name)
        if field is None or name in reserved:
            raise TypeError(f"unexpected keyword argument {name!r}")
        if value is None:
            continue  # None means "not set", so callers can pass optionals through
        if name == "tool_choice" and isinstance(value, str):
            value = chat_pb2.ToolChoice(mode=value)
        target = getattr(req, name)
        if isinstance(value, Message):
            target.CopyFrom(value)
        elif field.message_type is not None and _is_repeated(field) and not field.message_type.GetOptions().map_entry:
            for j, item in enumerate(value):
                if isinstance(item, Message):
                    target.add().CopyFrom(item)
                else:
                    _parse(item, target.add(), f"{name}[{j}]")
        else:
            # Scalars, maps, Struct and dicts for messages: the JSON mapping
            # knows every well-known type and checks the value types.
            _parse({name: value}, req, name)


def _is_repeated(field: Any) -> bool:
    # FieldDescriptor.label is deprecated in newer protobuf releases.
    is_repeated = getattr(field, "is_repeated", None)
    if is_repeated is not None:
        return bool(is_repeated)
    return bool(field.label == field.LABEL_REPEATED)


_CHAT_RESERVED = frozenset({"model", "messages", "stream"})


def chat_request(model: str, messages: Sequence[MessageLike], params: Mapping[str, Any]) -> chat_pb2.CreateChatCompletionRequest:
    """Build a CreateChatCompletionRequest; TypeError/ValueError on bad input."""
    if isinstance(messages, (str, bytes)) or isinstance(messages, Mapping):
        raise TypeError("messages must be a sequence of messages")
    req = chat_pb2.CreateChatCompletionRequest(model=model)
    req.messages.extend(_message(m, i) for i, m in enumerate(messages))
    _set_fields(req, params, _CHAT_RESERVED)
    return req


def embeddings_request(model: str, input: str | Sequence[str], params: Mapping[str, Any]) -> embeddings_pb2.CreateEmbeddingsRequest:
    """Build a CreateEmbeddingsRequest; a single string is one input."""
    inputs = [input] if isinstance(input, str) else list(input)
    req = embeddings_pb2.CreateEmbeddingsRequest(model=model, input=inputs)
    _set_fields(req, params, frozenset({"model", "input"}))
    return req
