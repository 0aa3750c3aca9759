"""A small multilayer perceptron in numpy: ``Dense`` layers, ``Sequential``, SGD and Adam,
early stopping. Enough to show hypermodels without a deep-learning framework.

A ``Dense`` layer computes ``activation(dot(input, kernel) + bias)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..exceptions import TuneError
from ..executors._tune import tune

__all__ = ["Dense", "Sequential", "SGD", "Adam", "History", "Callback", "EarlyStopping",
           "TuneReport", "ACTIVATIONS"]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


#: ``name -> (function, derivative given (input z, output a, upstream gradient g))``.
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "linear": (lambda z: z, lambda z, a, g: g),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a, g: g * (z > 0)),
    "tanh": (np.tanh, lambda z, a, g: g * (1.0 - a * a)),
    "sigmoid": (_sigmoid, lambda z, a, g: g * a * (1.0 - a)),
    "softmax": (_softmax, lambda z, a, g: a * (g - (g * a).sum(axis=1, keepdims=True))),
}


class Dense:
    """A fully connected layer: ``activation(dot(input, kernel) + bias)``.

    Parameters
    ----------
    units : int
        Output width.
    activation : {"linear", "relu", "tanh", "sigmoid", "softmax"}
    kernel, bias : array-like, optional
        Initial weights; by default Glorot-uniform kernel and zero bias, drawn when the layer
        first sees its input width.

    Examples
    --------
    >>> layer = Dense(2, kernel=[[0.5, 0.75], [0.25, 0.5]], bias=[0, 0])
    >>> layer([[1, 2], [3, 4]]).tolist()
    [[1.0, 1.75], [2.5, 4.25]]
    """

    def __init__(self, units: int, activation: str = "linear", *, kernel: Any = None,
                 bias: Any = None) -> None:
        if int(units) != units or units < 1:
            raise TuneError(f"Dense: units={units!r} must be a positive integer.")
        if activation not in ACTIVATIONS:
            raise TuneError(f"Dense: unknown activation {activation!r}. Choose one of: "
                            f"{', '.join(ACTIVATIONS)}.")
        self.units, self.activation = int(units), activation
        self.kernel = None if kernel is None else np.asarray(kernel, dtype=float)
        self.bias = None if bias is None else np.asarray(bias, dtype=float).reshape(-1)
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def build(self, n_inputs: int, rng: np.random.Generator) -> None:
        """Create missing weights for an input of width ``n_inputs``."""
        if self.kernel is None:
            limit = math.sqrt(6.0 / (n_inputs + self.units))
            self.kernel = rng.uniform(-limit, limit, size=(n_inputs, self.units))
        if self.bias is None:
            self.bias = np.zeros(self.units)
        if self.kernel.shape != (n_inputs, self.units) or self.bias.shape != (self.units,):
            raise TuneError(
                f"Dense: kernel {self.kernel.shape} and bias {self.bias.shape} do not fit an "
                f"input of width {n_inputs} and {self.units} units; the kernel must be "
                f"({n_inputs}, {self.units}) and the bias ({self.units},).")

    def __call__(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        self.build(x.shape[1], np.random.default_rng())
        z = x @ self.kernel + self.bias
        a = ACTIVATIONS[self.activation][0](z)
        self._cache = (x, z, a)
        return a

    def backward(self, grad: np.ndarray, *, through_activation: bool = True) -> np.ndarray:
        """Gradients of the last call: store ``d_kernel``/``d_bias``, return the input's."""
        x, z, a = self._cache
        if through_activation:
            grad = ACTIVATIONS[self.activation][1](z, a, grad)
        self.d_kernel = x.T @ grad
        self.d_bias = grad.sum(axis=0)
        return grad @ self.kernel.T

    @property
    def weights(self) -> list[np.ndarray]:
        return [self.kernel, self.bias]

    def __repr__(self) -> str:
        return f"Dense({self.units}, {self.activation!r})"


class SGD:
    """Stochastic gradient descent with optional momentum."""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0) -> None:
        self.learning_rate, self.momentum = float(learning_rate), float(momentum)
        self._velocity: dict[int, np.ndarray] = {}

    def update(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        for i, (p, g) in enumerate(zip(params, grads)):
            v = self._velocity.get(i, np.zeros_like(p)) * self.momentum - self.learning_rate * g
            self._velocity[i] = v
            p += v


class Adam:
    """Adam (Kingma & Ba, 2015)."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7) -> None:
        self.learning_rate, self.beta_1, self.beta_2 = float(learning_rate), beta_1, beta_2
        self.epsilon = epsilon
        self._m: dict[int, np.ndarray] = {}
        self._v: dict[int, np.ndarray] = {}
        self._t = 0

    def update(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        self._t += 1
        t = self._t
        lr = self.learning_rate * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        for i, (p, g) in enumerate(zip(params, grads)):
            m = self._m[i] = self.beta_1 * self._m.get(i, 0.0) + (1 - self.beta_1) * g
            v = self._v[i] = self.beta_2 * self._v.get(i, 0.0) + (1 - self.beta_2) * g * g
            p -= lr * m / (np.sqrt(v) + self.epsilon)


class History:
    """What ``fit`` returns: ``history[name]`` is the list of per-epoch values."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def __repr__(self) -> str:
        return f"<History {len(self.epoch)} epochs: {', '.join(self.history)}>"


class Callback:
    """Hooks into ``Sequential.fit``; ``self.model`` is the model being trained."""

    model: Sequential

    def on_train_begin(self) -> None:
        """Before the first epoch."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """After each epoch, with its ``loss``/``accuracy`` and ``val_*`` values."""

    def on_train_end(self) -> None:
        """After the last epoch (also when stopped early)."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor : str
        A key of the epoch logs, e.g. ``"val_loss"``.
    patience : int
    min_delta : float
        Smaller changes do not count as improvements.
    mode : {"auto", "min", "max"}
        ``auto``: maximise accuracies, minimise the rest.
    restore_best_weights : bool
        Put back the weights of the best epoch when training ends.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 3, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True) -> None:
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.sign = -1.0 if mode == "max" or (mode == "auto" and "acc" in monitor) else 1.0
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self) -> None:
        self.best, self.best_epoch, self.wait, self._weights = math.inf, None, 0, None
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise TuneError(f"EarlyStopping monitors {self.monitor!r}, but the epoch logs only "
                            f"have {sorted(logs)}. Pass validation_data to fit for val_* values.")
        value = self.sign * logs[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self._weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self) -> None:
        if self._weights is not None:
            self.model.set_weights(self._weights)


class TuneReport(Callback):
    """Report ``monitor`` to the running trial each epoch (``tune.report``), and stop
    training when the scheduler says so. Outside a trial it does nothing."""

    def __init__(self, monitor: str = "val_loss") -> None:
        self.monitor = monitor

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor in logs and tune.report(logs[self.monitor], epoch):
            self.model.stop_training = True


class Sequential:
    """Layers applied one after the other, trained by backpropagation.

    Parameters
    ----------
    layers : sequence of Dense
    loss : {"crossentropy", "mse"}
        ``crossentropy`` takes integer class labels and needs a last ``Dense(n_classes,
        "softmax")``; ``mse`` is for regression.
    optimizer : SGD, Adam or {"sgd", "adam"}
    seed : int, optional
        Seeds the initial weights and the shuffling of batches.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0., 0.], [0., 1.], [1., 0.], [1., 1.]]); y = np.array([0, 1, 1, 0])
    >>> model = Sequential([Dense(8, "tanh"), Dense(2, "softmax")], optimizer=Adam(0.05), seed=0)
    >>> _ = model.fit(X, y, epochs=300, batch_size=4)
    >>> model.predict(X).argmax(axis=1).tolist()
    [0, 1, 1, 0]
    """

    def __init__(self, layers: Sequence[Dense], *, loss: str = "crossentropy",
                 optimizer: SGD | Adam | str = "adam", seed: int | None = None) -> None:
        self.layers = list(layers)
        if not self.layers:
            raise TuneError("Sequential needs at least one Dense layer.")
        if loss not in ("crossentropy", "mse"):
            raise TuneError(f"Sequential: unknown loss {loss!r}. Use 'crossentropy' (class "
                            "labels) or 'mse' (regression).")
        if loss == "crossentropy" and self.layers[-1].activation != "softmax":
            raise TuneError("Sequential: the crossentropy loss needs a last layer "
                            "Dense(n_classes, 'softmax').")
        if isinstance(optimizer, str):
            optimizers = {"sgd": SGD, "adam": Adam}
            if optimizer.lower() not in optimizers:
                raise TuneError(f"Sequential: unknown optimizer {optimizer!r}; use 'sgd', "
                                "'adam' or an SGD/Adam object.")
            optimizer = optimizers[optimizer.lower()]()
        self.loss, self.optimizer = loss, optimizer
        self.rng = np.random.default_rng(seed)
        self.stop_training = False

    def __call__(self, X: Any) -> np.ndarray:
        out = np.asarray(X, dtype=float)
        for layer in self.layers:
            layer.build(out.shape[1], self.rng)
            out = layer(out)
        return out

    predict = __call__

    def _targets(self, y: Any, n: int) -> np.ndarray:
        y = np.asarray(y)
        if self.loss == "crossentropy":
            if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or \
                    y.max() >= self.layers[-1].units:
                raise TuneError(
                    f"crossentropy needs a 1-d array of integer class labels 0.."
                    f"{self.layers[-1].units - 1}, got {y.dtype} of shape {y.shape}.")
            return y
        return y.reshape(n, -1).astype(float)

    def evaluate(self, X: Any, y: Any) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` on ``(X, y)`` (accuracy for classification)."""
        out = self(X)
        y = self._targets(y, len(out))
        if self.loss == "mse":
            return {"loss": float(np.mean((out - y) ** 2))}
        p = np.clip(out[np.arange(len(y)), y], 1e-12, 1.0)
        return {"loss": float(-np.mean(np.log(p))),
                "accuracy": float(np.mean(out.argmax(axis=1) == y))}

    def _train_batch(self, X: np.ndarray, y: np.ndarray) -> None:
        out = self(X)
        if self.loss == "mse":
            grad, through = 2.0 * (out - y) / out.size, True
        else:
            # Softmax and crossentropy together: the gradient on the logits is p - onehot.
            grad = out.copy()
            grad[np.arange(len(y)), y] -= 1.0
            grad, through = grad / len(y), False
        params, grads = [], []
        for layer in reversed(self.layers):
            grad = layer.backward(grad, through_activation=through)
            through = True
            params += layer.weights
            grads += [layer.d_kernel, layer.d_bias]
        self.optimizer.update(params, grads)

    def fit(self, X: Any, y: Any, *, epochs: int = 10, batch_size: int = 32,
            validation_data: tuple[Any, Any] | None = None,
            callbacks: Sequence[Callback] = (), verbose: int = 0) -> History:
        """Train for ``epochs`` passes over shuffled mini-batches.

        Each epoch logs ``loss`` (and ``accuracy``) on the training data and, with
        ``validation_data``, ``val_loss`` (and ``val_accuracy``). A callback may end training
        early by setting ``model.stop_training``.
        """
        X = np.asarray(X, dtype=float)
        y = self._targets(y, len(X))
        history = History()
        self.stop_training = False
        for cb in callbacks:
            cb.model = self
            cb.on_train_begin()
        for epoch in range(epochs):
            order = self.rng.permutation(len(X))
            for start in range(0, len(X), batch_size):
                rows = order[start:start + batch_size]
                self._train_batch(X[rows], y[rows])
            logs = self.evaluate(X, y)
            if validation_data is not None:
                logs.update({f"val_{k}": v for k, v in self.evaluate(*validation_data).items()})
            history.epoch.append(epoch)
            for key, value in logs.items():
                history.history.setdefault(key, []).append(value)
            if verbose:
                print(f"epoch {epoch}: " + ", ".join(f"{k}={v:.4g}" for k, v in logs.items()))
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        for cb in callbacks:
            cb.on_train_end()
        return history

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every layer's kernel and bias."""
        return [w.copy() for layer in self.layers for w in layer.weights]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Load weights from :meth:`get_weights`."""
        it = iter(weights)
        for layer in self.layers:
            layer.kernel, layer.bias = np.array(next(it)), np.array(next(it))

    def count_params(self) -> int:
        return sum(w.size for layer in self.layers for w in layer.weights if w is not None)

    def __repr__(self) -> str:
        return f"Sequential({self.layers!r}, loss={self.loss!r})"
