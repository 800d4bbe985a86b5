"""The conformance cases of the backend tests: every layer with each
non-default option value, every loss and optimizer option, every activation
in every fusion position, and the training paths that need a model of their
own (frozen layers, schedules, clipping, data transforms, several outputs,
declared input types). Built from `dlc catalog --json` with the models,
builders and value tables of dlmodels.py."""
import random
import re

from dlmodels import (CONTEXTS, DATA_TRANSFORM_VALUES, HOST_ONLY_OPTIONS, INPUT_FLOAT_TYPES,
                      LOSS_VALUES, MERGE_LAYERS, NUMERIC_VALUES, OPTIMIZER_VALUES, SCHEDULES,
                      Catalog, Model, Tensor, finish, fmt, option_values, start,
                      trainable_before)


def conformance_cases(catalog_data, seed=1):
    """Every layer with each non-default option value, every loss and
    optimizer option, and every activation in every fusion position."""
    catalog = Catalog(catalog_data)
    cases = []

    def case(name, build, batch=None, **finish_args):
        name = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", name)).strip("_")
        rng = random.Random("%s:%d" % (name, seed))
        drawn = rng.choice([3, 5])
        model = Model(rng, catalog, batch or drawn)
        t = build(model, rng)
        if t is None:
            raise RuntimeError("conformance case %s does not build" % name)
        cases.append(finish(model, name, t, **finish_args))

    for layer in catalog.layers:
        if layer in MERGE_LAYERS:
            continue
        context = CONTEXTS[layer]
        variants = [("defaults", {})]
        for option in catalog.layers[layer]["options"]:
            for v in option_values(catalog, layer, option):
                variants.append(("%s_%s" % (option["name"], fmt(v)), {option["name"]: v}))
        for label, fixed in variants:
            def build(model, rng, layer=layer, fixed=fixed, context=context):
                return model.apply(layer, start(model, context, rng), fixed)
            case("%s_%s" % (layer, label), build)
        if context != "tokens":
            # After a trainable layer, so that the gradient of its input is taken too.
            def build(model, rng, layer=layer, context=context):
                return model.apply(layer, trainable_before(model, start(model, context, rng)))
            case("%s_after_a_layer" % layer, build)
    # Inputs declared in each other float element type, into each kind of
    # first layer: the cast where they enter, on every backend.
    for dtype in INPUT_FLOAT_TYPES:
        for context in ("image", "flat", "seq"):
            case("input_%s_%s" % (dtype, context),
                 lambda m, r, dtype=dtype, context=context: trainable_before(m, start(m, context, r, dtype)))
    # Frozen layers: trainable=false (a frozen batch_norm runs in inference mode).
    for layer, context in (("batch_norm", "image"), ("batch_norm", "flat"), ("conv2d", "image"),
                           ("dense", "flat")):
        case("%s_frozen_%s" % (layer, context),
             lambda m, r, layer=layer, context=context: m.apply(
                 layer, trainable_before(m, start(m, context, r)), extra="trainable=false"))
    # A parameter that does not reach the loss: its gradient is zeros.
    def unused_branch(model, rng):
        t = start(model, "flat", rng)
        model.apply("dense", t, {"units": 3})
        return model.apply("dense", t, {"units": 4, "activation": "tanh"})
    case("unused_branch", unused_branch)
    # Groups the fusion rules form around a pool, and those they must not.
    def norm_relu_pool(model, rng):
        t = model.apply("conv2d", start(model, "image", rng), {"filters": 3, "kernel_size": 2})
        return model.apply("max_pool2d", model.apply("relu", model.apply("batch_norm", t)), {"pool_size": 2})
    def pool_dropout_relu(model, rng):
        t = model.apply("conv2d", start(model, "image", rng), {"filters": 3, "kernel_size": 2, "activation": "tanh"})
        t = model.apply("avg_pool2d", t, {"pool_size": 2})
        return model.apply("relu", model.apply("dropout", t, {"rate": 0.25}))
    def conv_pool_gaps(model, rng):
        t = model.apply("conv2d", start(model, "image", rng), {"filters": 3, "kernel_size": 1, "activation": "relu"})
        return model.apply("max_pool2d", t, {"pool_size": 2, "strides": 3})
    def dense_softmax_axis(axis):
        def build(model, rng):
            t = model.apply("dense", start(model, "seq", rng), {"units": 4})
            return model.apply("softmax", t, {"axis": axis})
        return build
    case("fusion_dense_softmax_last_axis", dense_softmax_axis(-1))
    case("fusion_dense_softmax_other_axis", dense_softmax_axis(1))
    case("fusion_norm_relu_pool", norm_relu_pool)
    case("fusion_pool_dropout_relu", pool_dropout_relu)
    case("fusion_conv_pool_with_gaps", conv_pool_gaps)
    # Merge layers: two branches of one shape.
    def merged(layer, args):
        def build(model, rng):
            t = start(model, "image", rng)
            axis = int(args.split("=")[1]) if args else -1
            a = model.apply("conv2d", t, {"padding": "same", "filters": 3, "kernel_size": 3})
            b = model.apply("conv2d", t, {"padding": "same", "filters": 2 if layer == "concat" and axis == -1 else 3,
                                           "kernel_size": 1, "activation": "relu"})
            name = model.merge(layer, [a, b], args)
            dims = list(a.dims)
            if layer == "concat":
                at = axis - 1 if axis > 0 else axis  # the batch is axis 0
                dims[at] = a.dims[at] + b.dims[at]
            return Tensor(name, "image", dims)
        return build

    def add_three(model, rng):
        t = start(model, "flat", rng)
        branches = [model.apply("dense", t, {"units": 4, "activation": a})
                    for a in ("linear", "relu", "tanh")]
        return Tensor(model.merge("add", branches), "flat", [4])
    case("add_two", merged("add", ""))
    case("add_three", add_three)
    case("concat_defaults", merged("concat", ""))
    for v in NUMERIC_VALUES[("concat", "axis")]:
        case("concat_axis_%d" % v, merged("concat", "axis=%d" % v))
    # Every activation in every position a fusion can take it.
    for activation in catalog.activations:
        for position in ("dense", "dense_then", "conv", "conv_max_pool", "conv_avg_pool",
                         "dense_dropout", "conv_dropout_pool"):
            def build(model, rng, activation=activation, position=position):
                model.covers.add("fusion:%s:%s" % (position, activation))
                if position.startswith("dense"):
                    t = model.apply("dense", start(model, "flat", rng),
                                    {"units": 7} if position == "dense_then" else {"units": 7, "activation": activation})
                    if position == "dense_then" and activation != "linear":
                        t = model.apply(activation, t)
                    if position == "dense_dropout":
                        t = model.apply("dropout", t, {"rate": 0.25})
                    return t
                t = model.apply("conv2d", start(model, "image", rng),
                                {"filters": 4, "kernel_size": 2, "activation": activation})
                if position == "conv_dropout_pool":
                    t = model.apply("dropout", t, {"rate": 0.25})
                if position.endswith("pool"):
                    t = model.apply("avg_pool2d" if "avg" in position else "max_pool2d", t, {"pool_size": 2})
                return t
            case("fusion_%s_%s" % (position, activation), build)
    for extra in ("gelu_approximate", "leaky_relu_slope"):
        fixed = {"approximate": True} if extra.startswith("gelu") else {"negative_slope": 0.05}
        layer = extra.split("_")[0] if extra.startswith("gelu") else "leaky_relu"
        case("fusion_conv_pool_" + extra,
             lambda m, r, layer=layer, fixed=fixed: m.apply("max_pool2d", m.apply(layer, m.apply(
                 "conv2d", start(m, "image", r), {"filters": 4, "kernel_size": 2}), fixed)))
    # Every metric with each kind of labels (one-hot, class ids, binary): the
    # @evaluate program scores each example on every backend.
    for metric in catalog.data["metrics"]:
        call = metric["name"] + ("(%s)" % ", ".join("%s=2" % o["name"] for o in metric["options"])
                                 if metric["options"] else "")
        for labels, loss in (("", "categorical_crossentropy"), ("_sparse", "sparse_categorical_crossentropy"),
                             ("_binary", "binary_crossentropy")):
            case("metric_" + metric["name"] + labels,
                 lambda m, r: m.apply("dense", start(m, "flat", r), {"units": 4, "activation": "relu"}),
                 metrics=[call], classes=3, loss=loss)
    # Several outputs, each with its loss, weight and metrics: the model
    # trains on their weighted sum; under mixed_fp16 every output's loss
    # gradient carries the one loss scale.
    for label, precision, loss_scale in (("", "", ""), ("_mixed_fp16", "mixed_fp16", "dynamic(growth_steps=1)")):
        case("several_outputs" + label,
             lambda m, r: m.apply("dense", start(m, "flat", r), {"units": 5, "activation": "relu"}),
             loss="sparse_categorical_crossentropy", classes=3, metrics=["accuracy"],
             precision=precision, loss_scale=loss_scale,
             heads=[{"loss": "mse", "classes": 2, "weight": 0.5, "metrics": []},
                    {"loss": "binary_crossentropy", "classes": 4, "weight": 2.0, "metrics": ["accuracy"]}])
    # A batch large enough that the CUDA lstm packs 2 rows per block and
    # still covers 132 SMs (136 blocks, the last one half empty).
    case("lstm_rows_per_block",
         lambda m, r: m.apply("lstm", start(m, "seq", r), {"units": 3}), batch=271)
    # A sequence of predictions (one per position) with every loss: each
    # example's loss and scores are the means over its positions.
    for loss in catalog.losses:
        case("sequence_output_" + loss,
             lambda m, r: m.apply("lstm", start(m, "seq", r), {"units": 4, "return_sequences": True}),
             loss=loss, classes=3, sequence=True,
             metrics=["accuracy", "top_k_accuracy(k=2)"] if loss != "binary_crossentropy" else ["accuracy"])
    # Every loss with each option value, every optimizer with each option value.
    for loss, spec in catalog.losses.items():
        variants = [{}]
        for option in spec["options"]:
            if option["type"] == "bool":
                variants.append({option["name"]: not option["default"]})
            else:
                variants += [{option["name"]: v} for v in LOSS_VALUES.get((loss, option["name"]), [])]
        if any(o["name"] == "from_logits" for o in spec["options"]) and len(spec["options"]) > 1:
            variants.append({o["name"]: (True if o["type"] == "bool" else LOSS_VALUES[(loss, o["name"])][0])
                             for o in spec["options"]})
        for options in variants:
            label = "_".join("%s_%s" % (k, fmt(v)) for k, v in options.items()) or "defaults"
            case("loss_%s_%s" % (loss, label),
                 lambda m, r: m.apply("dense", start(m, "flat", r), {"units": 6, "activation": "tanh"}),
                 loss=loss, loss_options=options)
    for optimizer, spec in catalog.optimizers.items():
        variants = [{}]
        for option in spec["options"]:
            if option["name"] in HOST_ONLY_OPTIONS:
                continue
            if option["type"] == "bool":
                variants.append({option["name"]: not option["default"]})
            else:
                variants += [{option["name"]: v} for v in OPTIMIZER_VALUES.get((optimizer, option["name"]), [])]
        if optimizer == "sgd":
            variants.append({"momentum": 0.9, "nesterov": True})
        if optimizer == "rmsprop":
            variants.append({"momentum": 0.5, "centered": True})
        for options in variants:
            label = "_".join("%s_%s" % (k, fmt(v)) for k, v in options.items()) or "defaults"
            case("optimizer_%s_%s" % (optimizer, label),
                 lambda m, r: m.apply("dense", m.apply("batch_norm", start(m, "flat", r)), {"units": 6, "activation": "relu"}),
                 optimizer=optimizer, optimizer_options=options)
    # Every learning-rate schedule, with the optimizers whose rate enters
    # differently (sgd with momentum, adamw's decay, rmsprop).
    for index, schedule in enumerate(SCHEDULES):
        optimizer = ("sgd", "adamw", "rmsprop")[index % 3]
        options = {"learning_rate": schedule}
        if optimizer == "sgd":
            options["momentum"] = 0.9
        case("schedule_%s_%d_%s" % (schedule.kind, index, optimizer),
             lambda m, r: m.apply("dense", start(m, "flat", r), {"units": 6, "activation": "tanh"}),
             optimizer=optimizer, optimizer_options=options)
    # Every data transform the training step applies (dl.augment), with each
    # word of its options, after a conv2d reads the augmented images (its
    # kernel's update depends on every pixel), under two seeds.
    for transform in catalog.data["data_transforms"]:
        if not transform["in_training_step"] or transform["name"] == "random_crop":
            continue  # resize: the loader's alone; random_crop: below
        variants = list(DATA_TRANSFORM_VALUES.get(transform["name"], []))
        for option in transform["options"]:
            variants += [{option["name"]: w} for w in option.get("words", [])]
        for index, options in enumerate(variants or [{}]):
            step = "%s(%s)" % (transform["name"], ", ".join("%s=%s" % (k, fmt(v)) for k, v in options.items()))

            def build(model, rng, step=step, transform=transform, options=options):
                model.data_steps.append(step)
                model.covers.add("data_transform:" + transform["name"])
                model.covers.update("data_transform_option:%s.%s=%s" % (transform["name"], k, fmt(v))
                                    for k, v in options.items())
                image = model.new_input("image", [rng.choice([5, 7]), rng.choice([6, 8]), 3])
                return model.apply("conv2d", image, {"filters": 2, "kernel_size": 2})
            case("augment_%s_%d" % (transform["name"], index), build)
    # random_crop, which the step applies to images whose size the source
    # declares (image_folder's image_size), then a flip of the window.
    for uncropped in ((9, 10), (7, 6)):
        def build(model, rng, uncropped=uncropped):
            model.data_source = 'image_folder("unused", image_size=(%d, %d))' % uncropped
            model.data_steps += ["random_crop(7, 6)", "random_flip(mode=horizontal_and_vertical)"]
            model.covers.update(["data_transform:random_crop", "data_transform:random_flip"])
            image = model.new_input("image", [7, 6, 3])
            model.uncropped[image.name] = list(uncropped) + [3]
            return model.apply("conv2d", image, {"filters": 2, "kernel_size": 2})
        case("augment_random_crop_%dx%d" % uncropped, build)
    # Dynamic loss scaling's branches (explicit settings apply under any
    # policy): a good step, a doubling (growth_steps=1), and an fp16 overflow
    # that skips the step (a scale of 1e30); and turning it off.
    for label, setting, precision in (("dynamic", "dynamic", ""),
                                      ("growth", "dynamic(initial_scale=1024, growth_steps=1)", ""),
                                      ("overflow", "dynamic(initial_scale=1e30)", "mixed_fp16"),
                                      ("none", "none", "mixed_fp16")):
        case("loss_scale_" + label,
             lambda m, r: m.apply("dense", m.apply("dense", start(m, "flat", r),
                                                   {"units": 5, "activation": "tanh"}),
                                  {"units": 4, "activation": "relu"}),
             optimizer="adam", loss_scale=setting, precision=precision)
    return cases
