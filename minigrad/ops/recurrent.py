"""Recurrent cells, one fused rule per time step, and the embedding lookup.

A recurrent layer projects the inputs of all time steps at once (one GEMM, the ``linear`` op),
then runs one cell rule per step: the step's projected input ``xg (N, G*H)`` plus the recurrent
GEMM ``h @ w_hh.T``, the gate nonlinearities and the state update, with the backward written out.
Backpropagation through time is then the ordinary engine walking those nodes from the last step
to the first. The steps of the projection reach the rules through :class:`Unbind` or
:class:`Recurrence`, which gather the steps' gradients into one array (and, for the LSTM and RNN,
the recurrent weight's gradient as one GEMM over all steps); :func:`recurrence` runs a pass.

Gate layouts are PyTorch's: LSTM ``i, f, g, o``; GRU ``r, z, n``; each a block of ``H`` columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd import Function, Node
from minigrad.ops._common import as_tensor, shape_error
from minigrad.ops.activation import expit
from minigrad.tensor import Tensor

NONLINEARITIES = ("tanh", "relu")


class LSTMCell(Function):
    """One LSTM step on the state ``s = [h, c]`` of shape ``(2, N, H)``.

    ``a = xg + h @ w_hh.T``  (N, 4H), split into ``a_i, a_f, a_g, a_o``;
    ``i, f, o = sigmoid(a_i, a_f, a_o)``, ``g = tanh(a_g)``;
    ``c' = f * c + i * g``,  ``h' = o * tanh(c')``; the output is ``[h', c']``.

    With ``g_h, g_c`` the upstream gradients of ``h', c'``:
    ``dc' = g_c + g_h * o * (1 - tanh(c')**2)`` (the cell state's two ways forward),
    ``da_i = dc' * g * i (1 - i)``,  ``da_f = dc' * c * f (1 - f)``,
    ``da_g = dc' * i * (1 - g**2)``,  ``da_o = g_h * tanh(c') * o (1 - o)``;
    ``dxg = da``,  ``dh = da @ w_hh  (N, H)``,  ``dc = dc' * f``,  ``dw_hh = da.T @ h  (4H, H)``.
    """

    @staticmethod
    def forward(ctx: Node, xg: np.ndarray, state: np.ndarray, w_hh: np.ndarray) -> np.ndarray:
        h, c = state
        H = h.shape[1]
        a = np.matmul(h, w_hh.T)
        a += xg
        # the gate activations overwrite their pre-activations: [i, f, g, o]
        expit(a[:, : 2 * H], out=a[:, : 2 * H])
        np.tanh(a[:, 2 * H : 3 * H], out=a[:, 2 * H : 3 * H])
        expit(a[:, 3 * H :], out=a[:, 3 * H :])
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        out = np.empty_like(state)
        h_new, c_new = out
        np.multiply(f, c, out=c_new)
        c_new += np.multiply(i, g, out=h_new)  # h_new is scratch until the last line
        tanh_c = np.tanh(c_new)
        np.multiply(o, tanh_c, out=h_new)
        ctx.save(a, tanh_c, state, w_hh)
        return out

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        gates, tanh_c, state, w_hh = ctx.saved
        h, c = state
        H = h.shape[1]
        g_h, g_c = grad
        i, f, g, o = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
        dc_new = 1 - tanh_c * tanh_c
        dc_new *= o
        dc_new *= g_h
        dc_new += g_c
        # da = (local slope of each gate) * (what multiplies it), the slopes computed in place:
        # s (1 - s) for the sigmoids i, f, o and 1 - g**2 for g
        da = np.subtract(1, gates)
        da *= gates
        np.multiply(g, g, out=da[:, 2 * H : 3 * H])
        np.subtract(1, da[:, 2 * H : 3 * H], out=da[:, 2 * H : 3 * H])
        da[:, :H] *= dc_new * g
        da[:, H : 2 * H] *= dc_new * c
        da[:, 2 * H : 3 * H] *= dc_new * i
        da[:, 3 * H :] *= g_h * tanh_c
        need_xg, need_state, need_w = ctx.needs_input_grad
        grad_state = None
        if need_state:
            grad_state = np.empty_like(state)
            np.matmul(da, w_hh, out=grad_state[0])
            np.multiply(dc_new, f, out=grad_state[1])
        grad_w = da.T @ h if need_w else None
        return (da if need_xg else None), grad_state, grad_w


class GRUCell(Function):
    """One GRU step (PyTorch's form, the reset gate applied after the recurrent product).

    ``u = xg``, ``v = h @ w_hh.T + b_hh``  (N, 3H), each split into ``r, z, n`` parts;
    ``r = sigmoid(u_r + v_r)``,  ``z = sigmoid(u_z + v_z)``,  ``n = tanh(u_n + r * v_n)``;
    ``h' = (1 - z) * n + z * h``.

    With ``g`` the upstream gradient of ``h'``:
    ``dn = g (1 - z) (1 - n**2)``,  ``dz = g (h - n) z (1 - z)``,  ``dr = dn * v_n * r (1 - r)``;
    ``du = [dr, dz, dn]``,  ``dv = [dr, dz, dn * r]``;
    ``dh = dv @ w_hh + g * z``,  ``dw_hh = dv.T @ h``,  ``db_hh = sum of dv over N``.
    """

    @staticmethod
    def forward(
        ctx: Node, xg: np.ndarray, h: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray | None
    ) -> np.ndarray:
        hidden = h.shape[1]
        v = np.matmul(h, w_hh.T)
        if b_hh is not None:
            v += b_hh
        rz = expit(xg[:, : 2 * hidden] + v[:, : 2 * hidden])
        r, z = rz[:, :hidden], rz[:, hidden:]
        v_n = v[:, 2 * hidden :]
        n = np.tanh(xg[:, 2 * hidden :] + r * v_n)
        h_new = n + z * (h - n)
        ctx.save(rz, n, v_n, h, w_hh)
        return h_new

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        rz, n, v_n, h, w_hh = ctx.saved
        hidden = h.shape[1]
        r, z = rz[:, :hidden], rz[:, hidden:]
        du = np.empty((len(h), 3 * hidden), dtype=grad.dtype)
        dr, dz, dn = du[:, :hidden], du[:, hidden : 2 * hidden], du[:, 2 * hidden :]
        np.multiply(grad * (1 - z), 1 - n * n, out=dn)
        np.multiply(grad * (h - n), z * (1 - z), out=dz)
        np.multiply(dn * v_n, r * (1 - r), out=dr)
        dv = du.copy()
        dv[:, 2 * hidden :] *= r
        need_xg, need_h, need_w, need_b = ctx.needs_input_grad
        grad_h = dv @ w_hh + grad * z if need_h else None
        grad_w = dv.T @ h if need_w else None
        grad_b = dv.sum(axis=0) if need_b else None
        return (du if need_xg else None), grad_h, grad_w, grad_b


class RNNCell(Function):
    """One Elman RNN step: ``h' = act(xg + h @ w_hh.T)`` with ``act`` tanh or relu.

    ``da = g * (1 - h'**2)`` for tanh, ``g * [h' > 0]`` for relu (0 at the kink, as PyTorch);
    ``dxg = da``,  ``dh = da @ w_hh``,  ``dw_hh = da.T @ h``.
    """

    @staticmethod
    def forward(
        ctx: Node, xg: np.ndarray, h: np.ndarray, w_hh: np.ndarray, nonlinearity: str
    ) -> np.ndarray:
        a = np.matmul(h, w_hh.T)
        a += xg
        h_new = np.tanh(a, out=a) if nonlinearity == "tanh" else np.maximum(a, 0, out=a)
        ctx.nonlinearity = nonlinearity
        ctx.save(h_new, h, w_hh)
        return h_new

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        h_new, h, w_hh = ctx.saved
        slope = 1 - h_new * h_new if ctx.nonlinearity == "tanh" else h_new > 0
        da = grad * slope
        need_xg, need_h, need_w = ctx.needs_input_grad
        return (
            da if need_xg else None,
            da @ w_hh if need_h else None,
            da.T @ h if need_w else None,
        )


class _StepGradients:
    """The gradient of a ``(T, ...)`` sequence, gathered from the rules that read its steps."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape, self.dtype = shape, dtype
        self.grad: np.ndarray | None = None
        self.h_prev: np.ndarray | None = None  # for Recurrence: the state each step started from

    def add(self, t: int, grad: np.ndarray) -> None:
        if self.grad is None:
            self.grad = np.zeros(self.shape, self.dtype)
        self.grad[t] += grad

    def take(self) -> np.ndarray:
        """The gathered gradient; the next backward pass gathers into a fresh array."""
        grad, self.grad = self.grad, None
        return grad if grad is not None else np.zeros(self.shape, self.dtype)


class Unbind(Function):
    """The gathering half of splitting ``x (T, ...)`` into its steps ``x[0], ..., x[T-1]``.

    ``dx[t] = g_t``, the gradient of step ``t`` (zero for steps nothing used). A rule has one
    output, so the steps are read by :class:`Step` nodes: each writes its ``g_t`` into a shared
    ``(T, ...)`` array and this node, which runs after all of them, returns it. Slicing with
    ``x[t]`` instead would give every step a gradient of the whole sequence's size, ``T**2``
    work in all. The output is a 0-d placeholder that only orders the graph.
    """

    @staticmethod
    def forward(ctx: Node, x: np.ndarray, gather: _StepGradients) -> np.ndarray:
        ctx.gather = gather
        return np.zeros((), x.dtype)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        return ctx.gather.take()


class Step(Function):
    """``z = x[t]`` for one step of a sequence split by :class:`Unbind`: ``dx[t] = g``, written
    into the gathered gradient (see :class:`Unbind`)."""

    @staticmethod
    def forward(
        ctx: Node, placeholder: np.ndarray, x: np.ndarray, gather: _StepGradients, t: int
    ) -> np.ndarray:
        ctx.gather, ctx.t = gather, t
        return x[t]

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        ctx.gather.add(ctx.t, grad)
        return np.zeros((), grad.dtype)


class Recurrence(Function):
    """The gathering node of one LSTM or Elman RNN pass over ``xg (T, N, G*H)``: it hands the
    steps of ``xg`` to the step rules (like :class:`Unbind`) and computes the recurrent weight's
    gradient for all steps at once.

    Step ``t`` forms ``a_t = xg[t] + h_{t-1} @ w_hh.T``, so the gradient its rule returns for
    ``xg[t]`` is ``da_t`` itself, and
    ``dxg = [da_0, ..., da_{T-1}]``  (gathered from the :class:`Step` nodes),
    ``dw_hh = sum_t da_t.T @ h_{t-1} = dxg.reshape(T*N, G*H).T @ h_prev.reshape(T*N, H)``:
    one GEMM over all steps instead of one per step (the step rules get ``w_hh`` as a constant,
    so they skip it). ``h_prev[t]``, the state step ``t`` started from, is recorded by
    :func:`recurrence` as the steps run.
    """

    @staticmethod
    def forward(ctx: Node, xg: np.ndarray, w_hh: np.ndarray, gather: _StepGradients) -> np.ndarray:
        ctx.gather = gather
        # The step rules read w_hh as a constant; saving it here puts it under the version
        # check, so an in-place change (an optimizer step) before backward is refused.
        ctx.save(w_hh)
        return np.zeros((), xg.dtype)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        gather = ctx.gather
        dxg = gather.take()
        grad_w = None
        if ctx.needs_input_grad[1]:
            h_prev = gather.h_prev
            grad_w = dxg.reshape(-1, dxg.shape[-1]).T @ h_prev.reshape(-1, h_prev.shape[-1])
        return dxg, grad_w


class Embedding(Function):
    """``z = weight[indices]``: row ``indices[...]`` of ``weight (V, E)`` for every index.

    ``dweight[v] = sum of g over the places where indices == v`` (a scatter-add: a row used
    several times gets the sum), computed as the sparse product ``onehot(indices).T @ g``;
    the ``padding_idx`` row gets no gradient.
    """

    @staticmethod
    def forward(
        ctx: Node, weight: np.ndarray, indices: np.ndarray, padding_idx: int | None
    ) -> np.ndarray:
        ctx.indices, ctx.padding_idx, ctx.rows = indices, padding_idx, len(weight)
        return weight[indices]

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> np.ndarray:
        flat = ctx.indices.reshape(-1)
        g = grad.reshape(len(flat), -1)
        from scipy import sparse  # on first use: import minigrad does not load SciPy

        # one nonzero per column: column m of onehot.T is place m, its row the index there
        onehot_t = sparse.csc_matrix(
            (np.ones(len(flat), g.dtype), flat, np.arange(len(flat) + 1)),
            shape=(ctx.rows, len(flat)),
        )
        grad_w = np.asarray(onehot_t @ g)
        if ctx.padding_idx is not None:
            grad_w[ctx.padding_idx] = 0
        return grad_w


# ---------------------------------------------------------------------------------------------
# wrappers
# ---------------------------------------------------------------------------------------------
def _check_step(op: str, xg: tuple, state: tuple, w_hh: tuple, gates: int) -> None:
    """Shapes of one step: ``xg (N, G*H)``, ``state (..., N, H)``, ``w_hh (G*H, H)``."""
    hidden = state[-1]
    if w_hh != (gates * hidden, hidden):
        raise shape_error(op, w_hh, state, detail=f"do not fit: need w_hh ({gates}*H, H), state H")
    if len(xg) != 2 or xg != (state[-2], gates * hidden):
        raise shape_error(op, xg, state, detail=f"do not fit: need xg (N, {gates}*H), state H")


def lstm_step(xg: Any, state: Any, w_hh: Any) -> Tensor:
    """One LSTM step from the projected input ``xg (N, 4H)`` and the state ``[h, c] (2, N, H)``;
    returns the new state ``(2, N, H)``. See :class:`LSTMCell`.

    Example:
        >>> lstm_step(np.zeros((3, 8)), np.zeros((2, 3, 2)), np.zeros((8, 2))).shape
        (2, 3, 2)
    """
    xg, state, w_hh = as_tensor(xg), as_tensor(state), as_tensor(w_hh)
    if state.ndim != 3 or state.shape[0] != 2:
        raise ValueError(
            f"lstm_step: expected the state [h, c] of shape (2, N, H), got {state.shape}"
        )
    _check_step("lstm_step", xg.shape, state.shape, w_hh.shape, 4)
    return LSTMCell.apply(xg, state, w_hh)


def gru_step(xg: Any, h: Any, w_hh: Any, b_hh: Any = None) -> Tensor:
    """One GRU step from the projected input ``xg (N, 3H)`` (``x @ w_ih.T + b_ih``) and
    ``h (N, H)``; returns the new ``h``. See :class:`GRUCell`.

    Example:
        >>> gru_step(np.zeros((3, 6)), np.ones((3, 2)), np.zeros((6, 2))).tolist()[0]
        [0.5, 0.5]
    """
    xg, h, w_hh = as_tensor(xg), as_tensor(h), as_tensor(w_hh)
    if h.ndim != 2:
        raise ValueError(f"gru_step: expected h of shape (N, H), got {h.shape}")
    _check_step("gru_step", xg.shape, h.shape, w_hh.shape, 3)
    if b_hh is not None:
        b_hh = as_tensor(b_hh)
        if b_hh.shape != (w_hh.shape[0],):
            raise shape_error("gru_step", b_hh.shape, w_hh.shape, detail="do not fit: b_hh (3*H,)")
    return GRUCell.apply(xg, h, w_hh, b_hh)


def rnn_step(xg: Any, h: Any, w_hh: Any, nonlinearity: str = "tanh") -> Tensor:
    """One Elman RNN step ``act(xg + h @ w_hh.T)`` from the projected input ``xg (N, H)``.

    Example:
        >>> rnn_step(np.ones((1, 2)), np.zeros((1, 2)), np.eye(2), "relu").tolist()
        [[1.0, 1.0]]
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(
            f"rnn_step: nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}"
        )
    xg, h, w_hh = as_tensor(xg), as_tensor(h), as_tensor(w_hh)
    if h.ndim != 2:
        raise ValueError(f"rnn_step: expected h of shape (N, H), got {h.shape}")
    _check_step("rnn_step", xg.shape, h.shape, w_hh.shape, 1)
    return RNNCell.apply(xg, h, w_hh, nonlinearity=nonlinearity)


def unbind(x: Any) -> list[Tensor]:
    """The steps ``x[0], ..., x[T-1]`` of ``x (T, ...)`` as separate tensors, whose gradients
    are gathered into one array instead of one per step (see :class:`Unbind`).

    Example:
        >>> [step.tolist() for step in unbind(Tensor([[1.0, 2.0], [3.0, 4.0]]))]
        [[1.0, 2.0], [3.0, 4.0]]
    """
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError("unbind: cannot split a 0-d tensor into steps")
    if not x.requires_grad:
        return [Tensor._wrap(x.data[t], None) for t in range(len(x))]
    gather = _StepGradients(x.shape, x.dtype)
    placeholder = Unbind.apply(x, gather=gather)
    return [Step.apply(placeholder, x=x.data, gather=gather, t=t) for t in range(len(x))]


MODES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}  # and their gate counts


def _apply_step(mode: str, xg: Tensor, state: Tensor, w_hh: Any, b_hh: Tensor | None) -> Tensor:
    if mode == "LSTM":
        return LSTMCell.apply(xg, state, w_hh)
    if mode == "GRU":
        return GRUCell.apply(xg, state, w_hh, b_hh)
    return RNNCell.apply(xg, state, w_hh, nonlinearity="tanh" if mode == "RNN_TANH" else "relu")


def cell_step(mode: str, xg: Any, state: Any, w_hh: Any, b_hh: Any = None) -> Tensor:
    """One step of ``mode`` (``"RNN_TANH"``, ``"RNN_RELU"``, ``"LSTM"``, ``"GRU"``): the step
    functions above by name. ``b_hh`` is used by the GRU only (the others fold it into ``xg``).

    Example:
        >>> cell_step("RNN_RELU", np.ones((1, 2)), np.zeros((1, 2)), np.eye(2)).tolist()
        [[1.0, 1.0]]
    """
    if mode == "LSTM":
        return lstm_step(xg, state, w_hh)
    if mode == "GRU":
        return gru_step(xg, state, w_hh, b_hh)
    return rnn_step(xg, state, w_hh, "tanh" if mode == "RNN_TANH" else "relu")


def recurrence(
    mode: str, xg: Any, state: Any, w_hh: Any, b_hh: Any = None, reverse: bool = False
) -> list[Tensor]:
    """Run ``mode``'s step over the projected inputs ``xg (T, N, G*H)`` from ``state`` (``h``
    of shape (N, H), or ``[h, c]`` of shape (2, N, H) for an LSTM), last step first if
    ``reverse``; returns the state after each step, in time order. ``b_hh`` is the GRU's (the
    other modes fold it into ``xg``).

    Backpropagation through the result walks the step rules one by one (BPTT); the steps of
    ``xg`` reach them through :class:`Unbind` or, for the LSTM and RNN, :class:`Recurrence`,
    which also gives ``w_hh`` its gradient in one GEMM.

    Example:
        >>> states = recurrence("RNN_TANH", np.zeros((4, 3, 2)), np.zeros((3, 2)), np.eye(2))
        >>> len(states), states[-1].shape
        (4, (3, 2))
    """
    xg, state, w_hh = as_tensor(xg), as_tensor(state), as_tensor(w_hh)
    b_hh = None if b_hh is None else as_tensor(b_hh)
    if mode not in MODES:
        raise ValueError(f"recurrence: mode must be one of {sorted(MODES)}, got {mode!r}")
    if xg.ndim != 3 or len(xg) == 0:
        raise ValueError(f"recurrence: expected xg of shape (T, N, G*H), T > 0, got {xg.shape}")
    if state.ndim != (3 if mode == "LSTM" else 2) or (mode == "LSTM" and len(state) != 2):
        need = "[h, c] of shape (2, N, H)" if mode == "LSTM" else "h of shape (N, H)"
        raise ValueError(f"recurrence: expected the state {need}, got {state.shape}")
    _check_step("recurrence", xg.shape[1:], state.shape, w_hh.shape, MODES[mode])
    order = range(len(xg) - 1, -1, -1) if reverse else range(len(xg))
    states: list[Any] = [None] * len(xg)
    if mode == "GRU":
        steps = unbind(xg)
        for t in order:
            state = states[t] = _apply_step(mode, steps[t], state, w_hh, b_hh)
        return states
    gather = _StepGradients(xg.shape, xg.dtype)
    placeholder = Recurrence.apply(xg, w_hh, gather=gather)
    h_prev = np.empty((*xg.shape[:2], state.shape[-1]), xg.dtype)
    for t in order:
        step = Step.apply(placeholder, x=xg.data, gather=gather, t=t)
        h_prev[t] = state.data[0] if mode == "LSTM" else state.data
        state = states[t] = _apply_step(mode, step, state, w_hh.data, None)
    gather.h_prev = h_prev
    return states


def embedding(indices: Any, weight: Any, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight (V, E)`` picked by integer ``indices`` of any shape: output
    ``(*indices.shape, E)``. The ``padding_idx`` row (if given) receives no gradient.

    Example:
        >>> embedding(np.array([2, 0, 2]), Tensor(np.arange(6.0).reshape(3, 2))).tolist()
        [[4.0, 5.0], [0.0, 1.0], [4.0, 5.0]]
    """
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, dim), got {weight.shape}")
    idx = np.array(indices.data if isinstance(indices, Tensor) else indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    rows = len(weight)
    if idx.size and (idx.min() < 0 or idx.max() >= rows):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise ValueError(f"embedding: index {bad} is out of range for an embedding of {rows} rows")
    if padding_idx is not None and not -rows <= padding_idx < rows:
        raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {rows} rows")
    padding = None if padding_idx is None else padding_idx % rows
    return Embedding.apply(weight, indices=idx, padding_idx=padding)
