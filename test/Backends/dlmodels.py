"""Models for the backend tests, built from the registries `dlc catalog --json`
prints: what the conformance cases (conformance_cases.py: every layer, every
option value, every loss and optimizer with each option, every activation in
every fusion position) and random models for differential fuzzing are made of. Each model is a .dl text plus what the
runner needs to feed it (input kinds, id ranges, the loss and its classes).

A layer's options come from the catalog; what a layer needs of its input
(an image, a sequence, features, token ids) and which option values fit a
shape is the knowledge kept here, in one builder per layer. A catalog layer
or option without a builder or value here fails the coverage check."""
import math
import random

# Options that only choose how the host initialises parameters: the tests
# give every parameter explicitly, so no backend computes anything with them.
HOST_ONLY_OPTIONS = {
    "kernel_initializer": "initialises parameters on the host",
    "bias_initializer": "initialises parameters on the host",
    "embeddings_initializer": "initialises parameters on the host",
    "recurrent_initializer": "initialises parameters on the host",
    "learning_rate": "a scalar every optimizer case sets (schedules have cases of their own)",
}


def fmt(value):
    """A value as .dl source."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(fmt(v) for v in value) + (",)" if len(value) == 1 else ")")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


class Tensor:
    """A value of the model being built: kind is image [H, W, C], seq [T, F],
    flat [F] or tokens int32 [T] (ids below vocab)."""

    def __init__(self, name, kind, dims, vocab=None):
        self.name, self.kind, self.dims, self.vocab = name, kind, list(dims), vocab

    def like(self, name, dims=None, kind=None):
        return Tensor(name, kind or self.kind, self.dims if dims is None else dims)


class Choice:
    """Picks option values: a case's fixed values first, then (fuzzing) a
    random candidate, else the catalog default (the option is left out)."""

    def __init__(self, rng, fixed, randomize):
        self.rng, self.fixed, self.randomize = rng, dict(fixed), randomize
        self.used = {}

    def __call__(self, option, candidates, default=None):
        if option in self.fixed:
            value = self.fixed.pop(option)
        elif self.randomize and candidates:
            value = self.rng.choice(candidates)
        else:
            return default
        self.used[option] = value
        return value

    def args(self, positional=()):
        """The call's arguments: |positional| first, then every used option."""
        parts = [fmt(self.used[k]) for k in positional]
        parts += ["%s=%s" % (k, fmt(v)) for k, v in self.used.items() if k not in positional]
        return ", ".join(parts)


def conv_out(size, k, s, d, padding):
    if padding == "same":
        return -(-size // s)
    span = (k - 1) * d + 1
    return (size - span) // s + 1 if size >= span else 0


def pool_out(size, p, s, padding):
    if padding == "same":
        return -(-size // s)
    return (size - p) // s + 1 if size >= p else 0


# --- one builder per layer: (choice, catalog words, input) -> (args, output)
# or None when the layer does not fit the input.

def build_conv2d(c, words, t):
    if t.kind != "image":
        return None
    h, w, _ = t.dims
    filters = c("filters", [1, 3, 4, 6], default=3) or 3
    c.used["filters"] = filters
    kernel = c("kernel_size", [1, 2, 3, (2, 3), (3, 1)], default=3) or 3
    c.used["kernel_size"] = kernel
    strides = pair(c("strides", [1, 1, 2, (2, 1), (1, 2)], default=1) or 1)
    padding = c("padding", words["padding"], default="valid") or "valid"
    dilation = pair(c("dilation_rate", [1, 2, (1, 2)] if strides == (1, 1) else [1], default=1) or 1)
    c("activation", words["activation"])
    c("use_bias", [True, False])
    c("kernel_initializer", words["kernel_initializer"])
    c("bias_initializer", words["bias_initializer"])
    k = pair(kernel)
    oh = conv_out(h, k[0], strides[0], dilation[0], padding)
    ow = conv_out(w, k[1], strides[1], dilation[1], padding)
    if oh < 1 or ow < 1:
        return None
    return c.args(("filters", "kernel_size")), [oh, ow, filters]


def build_pool(c, words, t):
    if t.kind != "image":
        return None
    h, w, ch = t.dims
    size = pair(c("pool_size", [2, 3, (2, 3), (3, 2), 1], default=2) or 2)
    strides = c("strides", [None, 1, 2, (1, 2), 3])
    if strides is None:
        c.used.pop("strides", None)
        strides = size
    strides = pair(strides)
    padding = c("padding", words["padding"], default="valid") or "valid"
    oh, ow = pool_out(h, size[0], strides[0], padding), pool_out(w, size[1], strides[1], padding)
    if oh < 1 or ow < 1:
        return None
    return c.args(), [oh, ow, ch]


def build_global_pool(c, words, t):
    if t.kind != "image":
        return None
    return c.args(), [t.dims[2]]


def build_dense(c, words, t):
    if t.kind == "tokens":
        return None
    units = c("units", [1, 2, 5, 7, 16], default=5)
    c.used["units"] = units
    c("activation", words["activation"])
    c("use_bias", [True, False])
    c("kernel_initializer", words["kernel_initializer"])
    c("bias_initializer", words["bias_initializer"])
    return c.args(("units",)), t.dims[:-1] + [units]


def build_flatten(c, words, t):
    if t.kind in ("flat", "tokens"):
        return None
    return c.args(), [math.prod(t.dims)]


def build_reshape(c, words, t):
    if t.kind == "tokens":
        return None
    n = math.prod(t.dims)
    shapes = [(-1,)]
    if t.kind == "image":
        shapes.append((t.dims[0] * t.dims[1], t.dims[2]))
    for a in (2, 3):
        if n % a == 0 and n // a > 1:
            shapes.append((a, -1))
            shapes.append((1, a, n // a))
    target = c("target_shape", shapes, default=shapes[0]) or shapes[0]
    c.used["target_shape"] = target
    dims = list(target)
    if -1 in dims:
        dims[dims.index(-1)] = n // -math.prod(dims)
    kind = {1: "flat", 2: "seq", 3: "image"}[len(dims)]
    return c.args(("target_shape",)), dims, kind


def build_dropout(c, words, t):
    if t.kind == "tokens":
        return None
    rate = c("rate", [0.1, 0.3, 0.5, 0.75], default=0.3)
    c.used["rate"] = rate
    c("seed", [None, 7, 12345])
    if c.used.get("seed") is None:
        c.used.pop("seed", None)
    return c.args(("rate",)), t.dims


def build_batch_norm(c, words, t):
    if t.kind == "tokens":
        return None
    c("axis", [-1, -1, 1] if len(t.dims) > 1 else [-1])
    c("momentum", [0.9, 0.5])
    c("epsilon", [0.01, 1e-5])
    c("center", [True, False])
    c("scale", [True, False])
    return c.args(), t.dims


def build_embedding(c, words, t):
    if t.kind != "tokens":
        return None
    c.used["input_dim"] = t.vocab
    out = c("output_dim", [1, 3, 8], default=4)
    c.used["output_dim"] = out
    c("embeddings_initializer", words["embeddings_initializer"])
    return c.args(("input_dim", "output_dim")), [t.dims[0], out], "seq"


def build_lstm(c, words, t):
    if t.kind != "seq":
        return None
    units = c("units", [1, 3, 6, 9], default=4)
    c.used["units"] = units
    sequences = c("return_sequences", [True, False], default=False)
    c("use_bias", [True, False])
    c("unit_forget_bias", [True, False])
    c("kernel_initializer", words["kernel_initializer"])
    c("recurrent_initializer", words["recurrent_initializer"])
    if sequences:
        return c.args(("units",)), [t.dims[0], units], "seq"
    return c.args(("units",)), [units], "flat"


def build_unary(c, words, t):
    if t.kind == "tokens":
        return None
    return c.args(), t.dims


def build_gelu(c, words, t):
    if t.kind == "tokens":
        return None
    c("approximate", [True, False])
    return c.args(), t.dims


def build_softmax(c, words, t):
    if t.kind == "tokens":
        return None
    c("axis", [-1, -1, 1] if len(t.dims) > 1 else [-1])
    return c.args(), t.dims


def build_leaky_relu(c, words, t):
    if t.kind == "tokens":
        return None
    c("negative_slope", [0.1, 0.0, 0.5])
    return c.args(), t.dims


BUILDERS = {
    "conv2d": build_conv2d, "max_pool2d": build_pool, "avg_pool2d": build_pool,
    "global_max_pool2d": build_global_pool, "global_avg_pool2d": build_global_pool,
    "dense": build_dense, "flatten": build_flatten, "reshape": build_reshape,
    "dropout": build_dropout, "batch_norm": build_batch_norm, "embedding": build_embedding,
    "lstm": build_lstm, "relu": build_unary, "sigmoid": build_unary, "tanh": build_unary,
    "gelu": build_gelu, "softmax": build_softmax, "leaky_relu": build_leaky_relu,
}
MERGE_LAYERS = ("add", "concat")
# The input each layer is tried on in the conformance cases.
CONTEXTS = {
    "conv2d": "image", "max_pool2d": "image", "avg_pool2d": "image",
    "global_max_pool2d": "image", "global_avg_pool2d": "image", "dense": "flat",
    "flatten": "image", "reshape": "image", "dropout": "flat", "batch_norm": "image",
    "embedding": "tokens", "lstm": "seq", "relu": "flat", "sigmoid": "flat", "tanh": "flat",
    "gelu": "flat", "softmax": "seq", "leaky_relu": "flat", "add": "image", "concat": "image",
}
# Values a conformance case sets for numeric options (every bool and word
# value comes from the catalog).
NUMERIC_VALUES = {
    ("conv2d", "filters"): [5], ("conv2d", "kernel_size"): [(2, 3)],
    ("conv2d", "strides"): [2, (1, 2)], ("conv2d", "dilation_rate"): [2, (2, 1)],
    ("max_pool2d", "pool_size"): [3, (2, 3)], ("max_pool2d", "strides"): [1, (1, 2)],
    ("avg_pool2d", "pool_size"): [3, (3, 2)], ("avg_pool2d", "strides"): [1, (2, 1)],
    ("dense", "units"): [1, 7], ("reshape", "target_shape"): [(-1,)],
    ("dropout", "rate"): [0.5], ("dropout", "seed"): [12345],
    ("batch_norm", "axis"): [1, 2], ("batch_norm", "momentum"): [0.5],
    ("batch_norm", "epsilon"): [0.01], ("embedding", "input_dim"): [],
    ("embedding", "output_dim"): [1, 6], ("lstm", "units"): [1, 9],
    ("softmax", "axis"): [1], ("leaky_relu", "negative_slope"): [0.0, 0.05],
    ("concat", "axis"): [1, -2],
}
LOSS_HEADS = {  # head activation without from_logits
    "categorical_crossentropy": "softmax", "sparse_categorical_crossentropy": "softmax",
    "binary_crossentropy": "sigmoid", "mse": "linear",
}
LOSS_VALUES = {("categorical_crossentropy", "label_smoothing"): [0.1],
               ("binary_crossentropy", "label_smoothing"): [0.2]}
OPTIMIZER_VALUES = {
    ("sgd", "momentum"): [0.9], ("adam", "beta_1"): [0.5], ("adam", "beta_2"): [0.9],
    ("adam", "epsilon"): [1e-3], ("adamw", "weight_decay"): [0.1], ("adamw", "beta_1"): [0.8],
    ("adamw", "beta_2"): [0.95], ("adamw", "epsilon"): [1e-4], ("rmsprop", "rho"): [0.5],
    ("rmsprop", "momentum"): [0.5], ("rmsprop", "epsilon"): [1e-3],
}
# Gradient clipping (at most one per optimizer, as in Keras), small enough
# that the cases' gradients are clipped: some elements by clipvalue, some
# parameters' gradients by clipnorm, all gradients by global_clipnorm.
CLIP_VALUES = {"clipvalue": 0.02, "clipnorm": 0.05, "global_clipnorm": 0.1}
for _optimizer in ("sgd", "adam", "adamw", "rmsprop"):
    for _clip, _value in CLIP_VALUES.items():
        OPTIMIZER_VALUES[(_optimizer, _clip)] = [_value]
LEARNING_RATE = 0.05  # large enough that a wrong update shows
# Option values of the data transforms the training step applies (catalog
# `in_training_step`), on RGB images of values in [-1.5, 1.5): clipping
# ranges that clip, factors large enough that every warp moves pixels.
DATA_TRANSFORM_VALUES = {
    "rescale": [{"scale": 0.5, "offset": 0.25}],
    "normalize": [{"mean": (0.1, -0.2, 0.3), "std": (0.5, 2.0, 1.5)}, {"mean": 0.2, "std": 0.7}],
    "random_rotation": [{"factor": 0.2}],
    "random_zoom": [{"factor": 0.3}],
    "random_translation": [{"height_factor": 0.2, "width_factor": 0.3}],
    "random_brightness": [{"factor": 0.3, "value_range": (-1, 1)}, {"factor": 0.2}],
    "random_contrast": [{"factor": 0.4, "value_range": (-1, 1)}, {"factor": 0.5}],
}


class Schedule:
    """A learning-rate schedule given as an optimizer's learning_rate: its
    steps are few, so that the cases' steps (0-4) reach warmup, decay and
    the constant tail."""

    def __init__(self, kind, **options):
        self.kind, self.options = kind, options

    def __str__(self):
        return "%s(%s)" % (self.kind, ", ".join("%s=%s" % (k, fmt(v)) for k, v in self.options.items()))

    def covers(self):
        return {"schedule:" + self.kind} | {"schedule_option:%s.%s=%s" % (self.kind, k, fmt(v))
                                            for k, v in self.options.items()}


SCHEDULES = [
    Schedule("exponential_decay", initial_learning_rate=0.1, decay_steps=2.0, decay_rate=0.5),
    Schedule("exponential_decay", initial_learning_rate=0.1, decay_steps=3.0, decay_rate=0.25, staircase=True),
    Schedule("piecewise_constant", boundaries=(1, 3), values=(0.1, 0.05, 0.01)),
    Schedule("cosine_decay", initial_learning_rate=0.1, decay_steps=3.0, alpha=0.2),
    Schedule("cosine_decay", initial_learning_rate=0.01, decay_steps=2.0, warmup_target=0.1, warmup_steps=2),
]


class Catalog:
    def __init__(self, data):
        self.data = data
        self.layers = {l["name"]: l for l in data["layers"]}
        self.losses = {l["name"]: l for l in data["losses"]}
        self.optimizers = {o["name"]: o for o in data["optimizers"]}
        self.activations = next(o["words"] for o in self.layers["dense"]["options"]
                                if o["name"] == "activation")

    def words(self, layer):
        return {o["name"]: o.get("words", []) for o in self.layers[layer]["options"]}


class Model:
    """A functional-API model under construction."""

    def __init__(self, rng, catalog, batch):
        self.rng, self.catalog, self.batch = rng, catalog, batch
        self.lines, self.inputs, self.count = [], [], 0
        self.covers = set()
        self.precision = ""  # the training setup's policy; "" leaves Keras' fp32
        self.loss_scale = ""  # e.g. "dynamic(growth_steps=1)"; "" leaves the policy's default
        self.data_steps = []  # data transforms, e.g. "random_flip(mode=vertical)"
        # Where they read from: a source whose examples' shape the compiler
        # knows lets the step crop them ({input name: uncropped dims}).
        self.data_source = 'npz("unused.npz")'
        self.uncropped = {}

    def new_input(self, kind, dims, vocab=None, dtype=""):
        name = "in%d" % len(self.inputs)
        t = Tensor(name, kind, dims, vocab)
        t.dtype = dtype
        self.inputs.append(t)
        if dtype:
            self.covers.add("input_dtype:" + dtype)
        dtype = "int32" if kind == "tokens" else dtype
        # Inputs come before the layers in a model.
        self.lines.insert(len(self.inputs) - 1, "  input %s: %s[%s]" % (name, dtype, ", ".join(map(str, dims))))
        return t

    def apply(self, layer, t, fixed=(), randomize=False, extra=""):
        """Applies |layer| to |t|; None when it does not fit."""
        c = Choice(self.rng, dict(fixed), randomize)
        built = BUILDERS[layer](c, self.catalog.words(layer), t)
        if built is None or c.fixed:
            return None
        args, dims = built[0], built[1]
        kind = built[2] if len(built) > 2 else {1: "flat", 2: "seq", 3: "image"}[len(dims)]
        self.count += 1
        name = "v%d" % self.count
        args = args + (", " if args and extra else "") + extra
        self.lines.append("  %s = %s(%s)(%s)" % (name, layer, args, t.name))
        self.covers.add("layer:" + layer)
        for option, value in c.used.items():
            self.covers.add("option:%s.%s=%s" % (layer, option, fmt(value)))
        return Tensor(name, kind, dims)

    def merge(self, layer, tensors, args=""):
        self.count += 1
        name = "v%d" % self.count
        call = ", ".join(t.name for t in tensors) + (", " + args if args else "")
        self.lines.append("  %s = %s(%s)" % (name, layer, call))
        self.covers.add("layer:" + layer)
        if args:
            self.covers.add("option:%s.%s" % (layer, args.replace(" ", "")))
        return name

    def text(self, name, out, loss, loss_options, optimizer, optimizer_options, metrics=(), heads=()):
        """|heads|: more outputs, each a dict of its tensor `out`, `loss`,
        `weight` and `metrics`; the model then trains on their weighted sum."""
        self.lines.append("  output %s" % ", ".join([out.name] + [h["out"].name for h in heads]))
        self.covers.update("metric:" + m.split("(")[0] for h in [{"metrics": metrics}] + list(heads)
                           for m in h["metrics"])
        lo = ", ".join("%s=%s" % (k, fmt(v)) for k, v in loss_options.items())
        loss_text = loss + ("(%s)" % lo if lo else "")
        if heads:
            self.covers.add("training:several_outputs")
            # Each output's loss, weight and metrics, by the output's name.
            loss_text = "{%s}" % ", ".join(["%s: %s" % (out.name, loss_text)] +
                                           ["%s: %s" % (h["out"].name, h["loss"]) for h in heads])
            loss_text += "\n  loss_weights = {%s}" % ", ".join("%s: %s" % (h["out"].name, fmt(h["weight"]))
                                                                for h in heads)
            per_output = [(out.name, metrics)] + [(h["out"].name, h["metrics"]) for h in heads]
            metrics_line = "  metrics = {%s}\n" % ", ".join("%s: [%s]" % (o, ", ".join(m))
                                                             for o, m in per_output if m)
            self.covers.update("loss:" + h["loss"] for h in heads)
        else:
            metrics_line = "  metrics = [%s]\n" % ", ".join(metrics) if metrics else ""
        oo = ", ".join("%s=%s" % (k, fmt(v)) for k, v in optimizer_options.items())
        self.covers.add("loss:" + loss)
        self.covers.update("loss_option:%s.%s=%s" % (loss, k, fmt(v)) for k, v in loss_options.items())
        self.covers.add("optimizer:" + optimizer)
        self.covers.update("optimizer_option:%s.%s=%s" % (optimizer, k, fmt(v))
                           for k, v in optimizer_options.items())
        if self.precision:
            self.covers.add("precision:" + self.precision)
        precision_line = "  precision = %s\n" % self.precision if self.precision else ""
        if self.loss_scale:
            kind, _, options = self.loss_scale.partition("(")
            self.covers.add("loss_scale:" + kind)
            self.covers.update("loss_scale_option:%s.%s" % (kind, o.replace(" ", ""))
                               for o in options.rstrip(")").split(",") if o)
            precision_line += "  loss_scale = %s\n" % self.loss_scale
        data_lines = ""
        if self.data_steps:
            # Transforms that keep the shape run in the training step
            # (dl.augment), which the cases check; no source is read.
            data_lines = "  data {\n    source = %s\n%s  }\n" % (self.data_source, "".join(
                "    %s\n" % step for step in self.data_steps))
        return "model %s {\n%s\n}\n\ntrain %s {\n  loss = %s\n  optimizer = %s(%s)\n%s  batch_size = %d\n%s%s}\n" % (
            name, "\n".join(self.lines), name, loss_text, optimizer, oo,
            metrics_line, self.batch, precision_line, data_lines)


# Float element types an input may declare besides float32 (the catalog's
# element_types): stored as declared, cast to float32 where they enter.
INPUT_FLOAT_TYPES = ("float16", "bfloat16", "float64")
# The safetensors dtype a batch of each declared element type is written in.
SAFETENSORS_DTYPES = {"": "F32", "float32": "F32", "float16": "F16", "bfloat16": "BF16",
                      "float64": "F64"}


def start(model, kind, rng, dtype=""):
    """An input of |kind| (floats of element type |dtype|, "" for float32)
    with small ragged sizes."""
    if kind == "image":
        return model.new_input("image", [rng.choice([5, 7, 8]), rng.choice([6, 9]), rng.choice([1, 2, 3])],
                               dtype=dtype)
    if kind == "seq":
        return model.new_input("seq", [rng.choice([3, 5]), rng.choice([2, 4, 7])], dtype=dtype)
    if kind == "tokens":
        return model.new_input("tokens", [rng.choice([4, 6])], vocab=rng.choice([5, 11]))
    return model.new_input("flat", [rng.choice([6, 9, 13])], dtype=dtype)


def trainable_before(model, t):
    """|t| through a small trainable layer of the same kind (tokens pass)."""
    if t.kind == "image":
        return model.apply("conv2d", t, {"filters": t.dims[2] + 1, "kernel_size": 1})
    if t.kind in ("flat", "seq"):
        return model.apply("dense", t, {"units": t.dims[-1] + 1})
    return t


def head(model, t, loss, loss_options, classes, sequence=False):
    """Flattens what is left and ends in the loss's dense layer; with
    |sequence|, a sequence keeps its positions: one prediction each."""
    if t.kind == "tokens":
        t = model.apply("embedding", t)
    if t.kind != "flat" and not (sequence and t.kind == "seq"):
        t = model.apply("flatten", t)
    activation = "linear" if loss_options.get("from_logits") else LOSS_HEADS[loss]
    return model.apply("dense", t, {"units": classes, "activation": activation})


def finish(model, name, t, loss="categorical_crossentropy", loss_options=None,
           optimizer="sgd", optimizer_options=None, classes=None, metrics=(), sequence=False,
           loss_scale="", precision="", heads=()):
    """|heads|: more outputs from |t|, each a dict of `loss`, `classes`,
    `weight` and `metrics` (a list)."""
    loss_options = dict(loss_options or {})
    model.loss_scale = loss_scale or model.loss_scale
    model.precision = precision or model.precision
    classes = classes or model.rng.choice([2, 3, 5])
    out = head(model, t, loss, loss_options, classes, sequence)
    heads = [dict(h, out=head(model, t, h["loss"], {}, h["classes"])) for h in heads]
    if out.kind == "seq":
        model.covers.add("output:sequence")
    optimizer_options = dict(optimizer_options or {})
    optimizer_options.setdefault("learning_rate", LEARNING_RATE)
    if isinstance(optimizer_options["learning_rate"], Schedule):
        model.covers.update(optimizer_options["learning_rate"].covers())
    text = model.text(name, out, loss, loss_options, optimizer, optimizer_options, metrics, heads)
    # What the runner feeds each output's labels (`labels`, or
    # `<output>/labels` for several).
    outputs = [{"name": out.name, "loss": loss, "classes": classes}] + [
        {"name": h["out"].name, "loss": h["loss"], "classes": h["classes"]} for h in heads]
    return {"name": name, "text": text, "batch": model.batch, "covers": sorted(model.covers),
            "inputs": [{"name": i.name, "kind": i.kind, "dims": i.dims, "vocab": i.vocab,
                        "dtype": getattr(i, "dtype", "")} for i in model.inputs],
            "loss": loss, "loss_options": loss_options, "classes": classes, "outputs": outputs,
            "uncropped": model.uncropped}


def option_values(catalog, layer, option):
    if option["name"] in HOST_ONLY_OPTIONS:
        return []
    if option["type"] == "bool":
        return [not option["default"]] if option["default"] in (True, False) else [True, False]
    if option["type"] == "word":
        return [w for w in option["words"] if w != option["default"]]
    return NUMERIC_VALUES.get((layer, option["name"]), [])


def random_model(catalog_data, seed):
    """A random valid model: a chain of layers (sometimes branching into add
    or concat, sometimes with a second input), a random loss and optimizer
    with random options, small sizes."""
    catalog = Catalog(catalog_data)
    rng = random.Random(seed)
    model = Model(rng, catalog, rng.choice([1, 2, 3, 4, 5]))
    kind = rng.choice(["image", "image", "flat", "seq", "tokens"])
    # Drawn apart from |rng|, so that a seed's layers stay what they were.
    types = random.Random("input dtype:%s" % seed)
    dtype = types.choice(INPUT_FLOAT_TYPES) if types.random() < 0.2 else ""
    t = start(model, kind, rng, dtype)
    # Now and then a size where kernels change strategy (shared memory no
    # longer holds a long sequence's states or a wide layer's sums).
    if kind == "seq" and rng.random() < 0.1:
        model.inputs.pop()
        model.lines.pop(0)
        t = model.new_input("seq", [rng.choice([40, 60]), 3])
        t = model.apply("lstm", t, {"units": rng.choice([96, 128])}, randomize=True)
    layers = [l for l in BUILDERS if l not in ("embedding",)]
    for _ in range(rng.randint(1, 6)):
        if t.kind == "tokens":
            t = model.apply("embedding", t, randomize=True)
            continue
        roll = rng.random()
        if roll < 0.12 and t.kind in ("image", "flat"):
            # Two branches of one shape, merged.
            if t.kind == "image":
                f = rng.choice([2, 3])
                a = model.apply("conv2d", t, {"padding": "same", "filters": f, "strides": 1}, randomize=True)
                b = model.apply("conv2d", t, {"padding": "same", "filters": f, "strides": 1, "dilation_rate": 1}, randomize=True)
            else:
                u = rng.choice([3, 4])
                a = model.apply("dense", t, {"units": u}, randomize=True)
                b = model.apply("dense", t, {"units": u}, randomize=True)
            if a is None or b is None or a.dims != b.dims:
                continue
            if rng.random() < 0.5:
                t = Tensor(model.merge("add", [a, b]), a.kind, a.dims)
            else:
                t = Tensor(model.merge("concat", [a, b]), a.kind, a.dims[:-1] + [2 * a.dims[-1]])
            continue
        layer = rng.choice(layers)
        extra = "trainable=false" if rng.random() < 0.1 else ""
        nxt = model.apply(layer, t, randomize=True, extra=extra)
        if nxt is not None and math.prod(nxt.dims) <= 4096:
            t = nxt
        elif nxt is not None:
            model.lines.pop()
    if t.kind == "flat" and rng.random() < 0.03:
        t = model.apply("dense", t, {"units": rng.choice([8193, 9000])}, randomize=True)
    if rng.random() < 0.2 and t.kind != "tokens":
        # A second input, joined before the head.
        if t.kind != "flat":
            t = model.apply("flatten", t)
        other = model.apply("dense", start(model, "flat", rng), randomize=True)
        t = Tensor(model.merge("concat", [t, other]), "flat", [t.dims[0] + other.dims[0]])
    loss = rng.choice(list(catalog.losses))
    loss_options = {}
    for option in catalog.losses[loss]["options"]:
        if rng.random() < 0.5:
            loss_options[option["name"]] = rng.choice([True, False]) if option["type"] == "bool" else rng.choice([0.0, 0.1, 0.3])
    optimizer = rng.choice(list(catalog.optimizers))
    optimizer_options = {}
    # A learning-rate schedule now and then (drawn apart from |rng|).
    schedules = random.Random("schedule:%s" % seed)
    if schedules.random() < 0.2:
        optimizer_options["learning_rate"] = schedules.choice(SCHEDULES)
    for option in catalog.optimizers[optimizer]["options"]:
        if option["name"] in HOST_ONLY_OPTIONS or option["name"] in CLIP_VALUES or rng.random() < 0.5:
            continue
        if option["type"] == "bool":
            optimizer_options[option["name"]] = rng.choice([True, False])
        else:
            optimizer_options[option["name"]] = rng.choice(OPTIMIZER_VALUES.get((optimizer, option["name"]), [0.5]))
    # One gradient clipping now and then (drawn apart from |rng|).
    clipping = random.Random("clipping:%s" % seed)
    if clipping.random() < 0.3:
        clip = clipping.choice(sorted(CLIP_VALUES))
        optimizer_options[clip] = CLIP_VALUES[clip]
    metrics = [m["name"] + ("(k=%d)" % rng.choice([1, 2]) if m["options"] else "")
               for m in catalog.data["metrics"] if rng.random() < 0.3]
    # A sequence keeps its positions to the output now and then (drawn apart
    # from |rng| too).
    sequence = random.Random("sequence output:%s" % seed).random() < 0.3
    # Half the models train under a mixed precision policy (drawn apart).
    model.precision = random.Random("precision:%s" % seed).choice(
        ["", "", "mixed_bf16", "mixed_fp16"])
    # A quarter of the others train under tf32 (drawn apart, so that the
    # mixed policies keep their seeds).
    if not model.precision and random.Random("tf32:%s" % seed).random() < 0.25:
        model.precision = "tf32"
    # A float32 image as the first input gets data transforms now and then,
    # which the training step applies (drawn apart). The step's comparison
    # allows for its own rounding response (check_backends: the step's
    # gradients are of the augmented batch, not @grad's), so 16-bit policies
    # take them too (seed 510822033: mixed_fp16 after a rotation, an Adam
    # slot 2.2e-4 off on cpu and cuda-sim alike when the allowance came from
    # @grad alone).
    augment = random.Random("augment:%s" % seed)
    first = model.inputs[0]
    if (first.kind == "image" and not getattr(first, "dtype", "")
            and augment.random() < 0.25):
        kinds = [t for t in catalog.data["data_transforms"]
                 if t["in_training_step"] and t["name"] != "random_crop"]  # npz: sizes unknown
        for transform in augment.sample(kinds, augment.choice([1, 2, 3])):
            variants = [v for v in DATA_TRANSFORM_VALUES.get(transform["name"], [])
                        if all(not isinstance(x, tuple) or len(x) == 2 or len(x) == first.dims[-1]
                               for x in v.values())]
            for option in transform["options"]:
                variants += [{option["name"]: w} for w in option.get("words", [])
                             if first.dims[-1] == 3 or w == "tf" or transform["name"] != "imagenet_preprocess"]
            if variants:
                options = augment.choice(variants)
                model.data_steps.append("%s(%s)" % (transform["name"], ", ".join(
                    "%s=%s" % (k, fmt(v)) for k, v in options.items())))
    # More outputs now and then, each with its own loss and weight (drawn
    # apart).
    several = random.Random("heads:%s" % seed)
    heads = []
    if several.random() < 0.15:
        for _ in range(several.choice([1, 2])):
            head_loss = several.choice(sorted(catalog.losses))
            heads.append({"loss": head_loss, "classes": several.choice(
                              [1, 2, 4] if head_loss in ("mse", "binary_crossentropy") else [2, 4]),
                          "weight": several.choice([0.25, 1.0, 3.0]),
                          "metrics": ["accuracy"] if head_loss != "mse" and several.random() < 0.5 else []})
    return finish(model, "fuzz_%d" % seed, t, loss, loss_options, optimizer, optimizer_options,
                  metrics=metrics, sequence=sequence, heads=heads)
