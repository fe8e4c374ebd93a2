"""Recurrent layers with PyTorch's signatures, shapes, parameter names and gate order.

``RNN``, ``LSTM`` and ``GRU`` run a whole sequence: per layer and direction, the input of every
time step is projected in one GEMM (``linear``), then one cell rule per step
(``minigrad.ops.recurrent``) carries the state forward. ``loss.backward()`` walks those steps
back: backpropagation through time. ``RNNCell``, ``LSTMCell`` and ``GRUCell`` are one step.

Parameters of layer ``k`` (``_reverse`` appended for the backward direction): ``weight_ih_l{k}``
``(G*H, I_k)``, ``weight_hh_l{k}`` ``(G*H, H)``, ``bias_ih_l{k}`` and ``bias_hh_l{k}`` ``(G*H,)``,
with ``G`` gates (1 for RNN; LSTM's ``i, f, g, o``; GRU's ``r, z, n``) stacked in that order,
all initialized uniformly in ``+-1/sqrt(H)``. A PyTorch ``state_dict`` converted to arrays loads
unchanged.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.dtypes import is_int
from minigrad.nn import init
from minigrad.nn.layer import Layer, Parameter
from minigrad.ops.dropout import dropout
from minigrad.ops.linalg import linear
from minigrad.ops.recurrent import MODES, NONLINEARITIES, cell_step, lstm_step, recurrence
from minigrad.ops.shape import concat, stack
from minigrad.tensor import Tensor


def _mode(name: str, nonlinearity: str) -> str:
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(
            f"{name}: nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}"
        )
    return "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


def _check_size(name: str, what: str, value: Any) -> None:
    if not is_int(value) or value <= 0:
        raise ValueError(f"{name}: {what} must be a positive integer, got {value!r}")


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _reset_uniform(layer: Layer, hidden_size: int) -> None:
    """PyTorch's default: every weight and bias uniform in ``+-1/sqrt(hidden_size)``."""
    bound = 1.0 / math.sqrt(hidden_size)
    for p in layer.parameters():
        init.uniform_(p, -bound, bound)


def _projection_bias(mode: str, b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor | None:
    """The bias added in the input projection: both biases, except the GRU's ``b_hh``, which
    sits inside ``r * (W_hn h + b_hn)`` and so goes to the cell."""
    if b_ih is None or mode == "GRU":
        return b_ih
    return b_ih + b_hh


class RNNBase(Layer):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: parameters, input checks and the loop."""

    mode: str

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        for what, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            _check_size(name, what, value)
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1], got {dropout}")
        if proj_size:
            raise NotImplementedError(
                f"{name}: proj_size={proj_size} (LSTM with projections) is not supported by "
                "minigrad; use proj_size=0"
            )
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional = bidirectional
        gate_rows = MODES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        for k in range(num_layers):
            layer_input = input_size if k == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                setattr(
                    self, f"weight_ih_l{k}{suffix}", Parameter(np.zeros((gate_rows, layer_input)))
                )
                setattr(
                    self, f"weight_hh_l{k}{suffix}", Parameter(np.zeros((gate_rows, hidden_size)))
                )
                if bias:
                    setattr(self, f"bias_ih_l{k}{suffix}", Parameter(np.zeros(gate_rows)))
                    setattr(self, f"bias_hh_l{k}{suffix}", Parameter(np.zeros(gate_rows)))
        _reset_uniform(self, hidden_size)

    def _weights(self, k: int, suffix: str) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        names = (
            f"{kind}_l{k}{suffix}" for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        )
        w_ih, w_hh, b_ih, b_hh = (getattr(self, n, None) for n in names)
        return w_ih, w_hh, b_ih, b_hh

    def _check_input(self, x: Tensor) -> bool:
        """Validate the input; returns whether it is batched (3-D)."""
        name = type(self).__name__
        if x.ndim not in (2, 3):
            raise ValueError(
                f"{name}: expected input of shape (T, N, {self.input_size}) "
                f"({'(N, T, I) with batch_first' if self.batch_first else 'time first'}) or "
                f"unbatched (T, {self.input_size}), got {x.shape}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input has shape {x.shape}, whose last axis {x.shape[-1]} is not "
                f"input_size={self.input_size}"
            )
        if x.data.dtype.kind != "f":
            raise TypeError(f"{name}: input must be a float tensor, got dtype {x.data.dtype}")
        steps = x.shape[1 if self.batch_first and x.ndim == 3 else 0]
        if steps == 0:
            raise ValueError(f"{name}: input has shape {x.shape}: a sequence of 0 time steps")
        return x.ndim == 3

    def _check_state(self, what: str, state: Any, batch: int, batched: bool) -> Tensor:
        state = _as_tensor(state)
        directions = 2 if self.bidirectional else 1
        expected: tuple[int, ...] = (self.num_layers * directions, batch, self.hidden_size)
        if not batched:
            expected = (expected[0], expected[2])
        if state.shape != expected:
            raise ValueError(
                f"{type(self).__name__}: {what} has shape {state.shape} but expected {expected} "
                f"(num_layers * num_directions, {'batch, ' if batched else ''}hidden_size)"
            )
        return state if batched else state.unsqueeze(1)

    def _initial_states(self, hx: Any, batch: int, batched: bool, like: Tensor) -> list:
        """One initial state per (layer, direction): ``h (N, H)``, or ``[h, c] (2, N, H)``."""
        directions = 2 if self.bidirectional else 1
        count = self.num_layers * directions
        if hx is None:
            shape = (
                (2, batch, self.hidden_size) if self.mode == "LSTM" else (batch, self.hidden_size)
            )
            zeros = Tensor._wrap(np.zeros(shape, like.data.dtype), None)
            return [zeros] * count
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ValueError(
                    f"LSTM: the initial state must be a tuple (h0, c0), got {type(hx).__name__}"
                )
            h0 = self._check_state("h0", hx[0], batch, batched)
            c0 = self._check_state("c0", hx[1], batch, batched)
            both = stack([h0, c0], axis=1)  # (L*D, 2, N, H)
            return [both[i] for i in range(count)]
        h0 = self._check_state("h0", hx, batch, batched)
        return [h0[i] for i in range(count)]

    def _direction(self, x: Tensor, state: Tensor, k: int, suffix: str) -> tuple[Tensor, Tensor]:
        """Run one direction of layer ``k`` over ``x (T, N, I)``: the states of every step in
        time order, stacked, and the last state reached."""
        w_ih, w_hh, b_ih, b_hh = self._weights(k, suffix)
        xg = linear(x, w_ih, _projection_bias(self.mode, b_ih, b_hh))  # all steps, one GEMM
        states = recurrence(self.mode, xg, state, w_hh, b_hh, reverse=bool(suffix))
        return stack(states), states[0 if suffix else -1]

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Any]:
        x = _as_tensor(input)
        batched = self._check_input(x)
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        initial = self._initial_states(hx, x.shape[1], batched, x)
        suffixes = ("", "_reverse") if self.bidirectional else ("",)
        finals = []
        for k in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(suffixes):
                states, final = self._direction(x, initial[k * len(suffixes) + d], k, suffix)
                outputs.append(states[:, 0] if self.mode == "LSTM" else states)
                finals.append(final)
            x = outputs[0] if len(outputs) == 1 else concat(outputs, axis=-1)
            if self.dropout and self.training and k < self.num_layers - 1:
                x = dropout(x, self.dropout)
        output = x.squeeze(1) if not batched else x.transpose(1, 0, 2) if self.batch_first else x
        final = stack(finals)  # (L*D, N, H), or (L*D, 2, N, H) for an LSTM
        if not batched:
            final = final.squeeze(-2)
        if self.mode == "LSTM":
            return output, (final[:, 0], final[:, 1])
        return output, final

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity='relu'"
        for name, default in (("bias", True), ("batch_first", False), ("bidirectional", False)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        if self.dropout:
            text += f", dropout={self.dropout}"
        return text


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh)``, stacked
    ``num_layers`` deep, ``act`` tanh or relu.

    Input ``(T, N, input_size)`` (``(N, T, input_size)`` with ``batch_first``, or unbatched
    ``(T, input_size)``) and optional ``h0 (num_layers * num_directions, N, hidden_size)``
    (zeros if omitted). Returns ``(output, h_n)``: ``output (T, N, D * hidden_size)`` holds the
    last layer's ``h_t`` at every step, ``h_n`` every layer's last state. ``dropout`` is applied
    to the outputs of every layer but the last, in training mode.

    Example:
        >>> rnn = RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(np.zeros((5, 3, 10)))
        >>> output.shape, h_n.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__(
            _mode("RNN", nonlinearity),
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
        )


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's equations and gate order ``i, f, g, o``::

        i, f, o = sigmoid(...), g = tanh(...)   (each x_t @ W_i*.T + b_i* + h @ W_h*.T + b_h*)
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)

    Input as for :class:`RNN`; the optional initial state is a tuple ``(h0, c0)``, each
    ``(num_layers * num_directions, N, hidden_size)``. Returns ``(output, (h_n, c_n))``.
    ``proj_size`` is not supported.

    Example:
        >>> lstm = LSTM(10, 20, batch_first=True)
        >>> output, (h_n, c_n) = lstm(np.zeros((3, 5, 10)))
        >>> output.shape, h_n.shape, c_n.shape
        ((3, 5, 20), (1, 3, 20), (1, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
        )


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's equations and gate order ``r, z, n``::

        r = sigmoid(x W_ir.T + b_ir + h W_hr.T + b_hr),   z likewise
        n = tanh(x W_in.T + b_in + r * (h W_hn.T + b_hn)),   h_t = (1 - z) * n + z * h

    Input, initial state and results as for :class:`RNN`.

    Example:
        >>> gru = GRU(4, 6, bidirectional=True)
        >>> output, h_n = gru(np.zeros((7, 2, 4)))
        >>> output.shape, h_n.shape
        ((7, 2, 12), (2, 2, 6))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional
        )


class RNNCellBase(Layer):
    """What the one-step cells share: parameters ``weight_ih (G*H, I)``, ``weight_hh
    (G*H, H)``, ``bias_ih``, ``bias_hh (G*H,)`` and the input checks."""

    mode: str

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool) -> None:
        super().__init__()
        name = type(self).__name__
        _check_size(name, "input_size", input_size)
        _check_size(name, "hidden_size", hidden_size)
        self.mode, self.input_size, self.hidden_size, self.bias = (
            mode,
            input_size,
            hidden_size,
            bias,
        )
        gate_rows = MODES[mode] * hidden_size
        self.weight_ih = Parameter(np.zeros((gate_rows, input_size)))
        self.weight_hh = Parameter(np.zeros((gate_rows, hidden_size)))
        self.bias_ih = Parameter(np.zeros(gate_rows)) if bias else None
        self.bias_hh = Parameter(np.zeros(gate_rows)) if bias else None
        _reset_uniform(self, hidden_size)

    def _input(self, input: Any) -> tuple[Tensor, bool]:
        x = _as_tensor(input)
        name = type(self).__name__
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: expected input of shape (N, {self.input_size}) or "
                f"({self.input_size},), got {x.shape}"
            )
        return (x, True) if x.ndim == 2 else (x.unsqueeze(0), False)

    def _state(self, what: str, state: Any, batch: int, batched: bool, like: Tensor) -> Tensor:
        if state is None:
            return Tensor._wrap(np.zeros((batch, self.hidden_size), like.data.dtype), None)
        state = _as_tensor(state)
        expected = (batch, self.hidden_size) if batched else (self.hidden_size,)
        if state.shape != expected:
            raise ValueError(
                f"{type(self).__name__}: {what} has shape {state.shape} but expected {expected}"
            )
        return state if batched else state.unsqueeze(0)

    def _project(self, x: Tensor) -> Tensor:
        return linear(x, self.weight_ih, _projection_bias(self.mode, self.bias_ih, self.bias_hh))

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity='relu'"
        return text


class RNNCell(RNNCellBase):
    """One Elman RNN step: ``h' = act(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)``.

    ``input (N, input_size)`` or ``(input_size,)``, ``hx`` of shape ``(N, hidden_size)``
    (zeros if omitted); returns ``h'``.

    Example:
        >>> cell = RNNCell(3, 5, nonlinearity="relu")
        >>> cell(np.ones((2, 3))).shape
        (2, 5)
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"
    ) -> None:
        super().__init__(_mode("RNNCell", nonlinearity), input_size, hidden_size, bias)

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        x, batched = self._input(input)
        h = self._state("hx", hx, len(x), batched, x)
        h_new = cell_step(self.mode, self._project(x), h, self.weight_hh)
        return h_new if batched else h_new.squeeze(0)


class GRUCell(RNNCellBase):
    """One GRU step (equations as :class:`GRU`); ``hx (N, hidden_size)``, returns ``h'``.

    Example:
        >>> GRUCell(3, 5)(np.ones((2, 3)), np.zeros((2, 5))).shape
        (2, 5)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__("GRU", input_size, hidden_size, bias)

    def forward(self, input: Any, hx: Any = None) -> Tensor:
        x, batched = self._input(input)
        h = self._state("hx", hx, len(x), batched, x)
        h_new = cell_step(self.mode, self._project(x), h, self.weight_hh, self.bias_hh)
        return h_new if batched else h_new.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (equations as :class:`LSTM`); ``hx`` is ``(h, c)``, each
    ``(N, hidden_size)`` (zeros if omitted); returns ``(h', c')``.

    Example:
        >>> h, c = LSTMCell(3, 5)(np.ones((2, 3)))
        >>> h.shape, c.shape
        ((2, 5), (2, 5))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__("LSTM", input_size, hidden_size, bias)

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Tensor]:
        x, batched = self._input(input)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"LSTMCell: the state must be a tuple (h, c), got {type(hx).__name__}")
        h, c = (None, None) if hx is None else hx
        h = self._state("h", h, len(x), batched, x)
        c = self._state("c", c, len(x), batched, x)
        state = lstm_step(self._project(x), stack([h, c]), self.weight_hh)
        h_new, c_new = state[0], state[1]
        return (h_new, c_new) if batched else (h_new.squeeze(0), c_new.squeeze(0))
