#!/usr/bin/python3
"""PyTorch peer: one benchmark measurement per process, one JSON line on stdout.

    /usr/bin/python3 bench/peer_torch.py --model cnn --mode train --batch 128 [--device cuda]
        [--precision fp32|tf32|bf16] [--compile none|default|max-autotune] [--image-size N]

The models are the same architectures as examples/mnist_cnn.dl, examples/text_lstm.dl and
examples/vgg16_transfer.dl (vgg: the VGG16 base frozen, as keras.applications' with
trainable=False, under a new Flatten/Dense(256)/Dense(10) head; 224x224 images, or
--image-size's (a multiple of 32, as the GPU check's dry run takes); its weights are random
here, which changes no timing).
--precision tf32 lets cuBLAS/cuDNN use TF32 tensor cores for f32 products; bf16 runs the
step under torch.autocast (bf16 products, f32 master weights), as dlc's mixed_bf16.
--compile wraps the model in torch.compile (the first step's time, compiling included, is
reported as compile_seconds); the optimizer step stays eager.
Softmax is folded into the loss when training (F.cross_entropy on logits with one-hot
targets = softmax + categorical crossentropy) and applied explicitly at inference."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common as bc  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class MnistCNN(nn.Module):
    """28x28x1 -> Conv(32,3x3,relu) -> MaxPool2 -> Conv(64,3x3,relu) -> MaxPool2 ->
    Conv(64,3x3,relu) -> Flatten -> Dense(64,relu) -> Dense(10) (logits)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.conv3 = nn.Conv2d(64, 64, 3)
        self.fc1 = nn.Linear(3 * 3 * 64, 64)
        self.fc2 = nn.Linear(64, bc.CNN_CLASSES)

    def forward(self, x):  # x: [N, 1, 28, 28] (NCHW shape, any memory format)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.conv3(x))
        # Flatten in Keras' (H, W, C) order; free when x is channels_last.
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


class TextLSTM(nn.Module):
    """int tokens[20] -> Embedding(1000,128) -> LSTM(128), last output -> Dense(1000) (logits)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(bc.LSTM_VOCAB, bc.LSTM_EMBED)
        self.lstm = nn.LSTM(bc.LSTM_EMBED, bc.LSTM_UNITS, batch_first=True)
        self.fc = nn.Linear(bc.LSTM_UNITS, bc.LSTM_VOCAB)

    def forward(self, tokens):
        h, _ = self.lstm(self.emb(tokens))
        return self.fc(h[:, -1])


class VGG16Transfer(nn.Module):
    """SxSx3 (S = 224) -> VGG16's 13 3x3 convolutions (relu) in 5 blocks, each ending in a 2x2
    max pool, frozen -> Flatten -> Dense(256, relu) -> Dense(10) (logits)."""

    BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))

    def __init__(self, image_size=224):
        super().__init__()
        layers, channels = [], 3
        for filters, convs in self.BLOCKS:
            for _ in range(convs):
                layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU(inplace=True)]
                channels = filters
            layers.append(nn.MaxPool2d(2, 2))
        self.base = nn.Sequential(*layers)
        for p in self.base.parameters():
            p.requires_grad_(False)
        side = image_size >> len(self.BLOCKS)
        self.fc1 = nn.Linear(side * side * 512, 256)
        self.fc2 = nn.Linear(256, bc.VGG_CLASSES)

    def forward(self, x):  # x: [N, 3, S, S]
        x = self.base(x)
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # Keras' (H, W, C) flatten
        return self.fc2(F.relu(self.fc1(x)))


MODEL_CLASSES = {"cnn": MnistCNN, "lstm": TextLSTM, "vgg": VGG16Transfer}


def keras_init_(model):
    """Keras defaults: glorot_uniform kernels, zero biases (conv and dense layers)."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def make_adam(model):
    # Keras' Adam epsilon is 1e-7 (PyTorch's default is 1e-8).
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3, eps=1e-7)


def synthetic_batches(model_name, batch, memory_format=torch.contiguous_format, device="cpu",
                      image_size=224):
    g = torch.Generator().manual_seed(bc.SEED)
    out = []
    for _ in range(bc.NUM_BATCHES):
        if model_name == "cnn":
            x = torch.rand(batch, 1, 28, 28, generator=g).contiguous(memory_format=memory_format)
            classes = bc.CNN_CLASSES
        elif model_name == "vgg":
            x = torch.rand(batch, 3, image_size, image_size, generator=g).contiguous(
                memory_format=memory_format)
            classes = bc.VGG_CLASSES
        else:
            x = torch.randint(0, bc.LSTM_VOCAB, (batch, bc.LSTM_SEQ), generator=g)
            classes = bc.LSTM_VOCAB
        y = F.one_hot(torch.randint(0, classes, (batch,), generator=g), classes).float()
        out.append((x.to(device), y.to(device)))
    return out


def make_step(model_name, mode, batch, memory_format, device, precision="fp32", compile_mode="none",
              image_size=224):
    torch.manual_seed(bc.SEED)
    sized = {"image_size": image_size} if model_name == "vgg" else {}
    model = keras_init_(MODEL_CLASSES[model_name](**sized)).to(device)
    if model_name in ("cnn", "vgg"):
        model = model.to(memory_format=memory_format)
    data = synthetic_batches(model_name, batch, memory_format, device, image_size)
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    run = model if compile_mode == "none" else torch.compile(model, mode=compile_mode)

    def forward(x):
        if precision == "bf16":
            with torch.autocast(device_type=device, dtype=torch.bfloat16):
                return run(x).float()
        return run(x)

    if mode == "train":
        model.train()
        opt = make_adam(model)

        def fn(x, y):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(forward(x), y)  # softmax + categorical crossentropy
            loss.backward()
            opt.step()
            return loss
    else:
        model.eval()

        def fn(x, y):
            with torch.inference_mode():
                return F.softmax(forward(x), dim=1)

    step = bc.cycle([lambda x=x, y=y: fn(x, y) for x, y in data])
    if device == "cpu":
        return step

    # A GPU step counts once its kernels have finished, as dlc's bench does.
    def synchronized():
        out = step()
        torch.cuda.synchronize()
        return out

    return synchronized


def main():
    p = bc.worker_args(__doc__)
    p.add_argument("--memory-format", choices=("auto", "contiguous", "channels_last"),
                   default="auto",
                   help="CNN only; auto probes both and keeps the faster one")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--precision", choices=("fp32", "tf32", "bf16"), default="fp32")
    p.add_argument("--compile", choices=("none", "default", "max-autotune"), default="none",
                   dest="compile_mode")
    p.add_argument("--image-size", type=int, default=224, help="vgg only: the images' side")
    args = p.parse_args()
    if args.image_size < 32 or args.image_size % 32:
        sys.exit("peer_torch.py: --image-size must be a multiple of 32 (VGG16 halves it five times); got %d"
                 % args.image_size)
    if args.compile_mode != "none" and not hasattr(torch, "compile"):
        sys.exit("peer_torch.py: --compile needs PyTorch 2 or later; this is " + torch.__version__)
    n = bc.threads()
    torch.set_num_threads(n)
    torch.set_num_interop_threads(1)

    formats = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
    chosen = "contiguous"
    probe = {}
    if args.model in ("cnn", "vgg"):
        if args.memory_format == "auto" and args.compile_mode == "none":
            for name, fmt in formats.items():
                step = make_step(args.model, args.mode, args.batch, fmt, args.device,
                                 image_size=args.image_size)
                for _ in range(max(2, args.warmup)):
                    step()
                probe[name] = 1000.0 * bc.calibrate(step, seconds=min(1.0, args.min_time / 3))
            chosen = min(probe, key=probe.get)
        elif args.memory_format != "auto":
            chosen = args.memory_format
    step = make_step(args.model, args.mode, args.batch, formats[chosen], args.device,
                     args.precision, args.compile_mode, args.image_size)
    if args.device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    step()  # compiles, under --compile
    compile_seconds = time.perf_counter() - started
    result = bc.measure(step, args.batch, args.warmup, args.min_time, args.reps)
    result.update({
        "framework": "torch",
        "version": torch.__version__,
        "model": args.model,
        "mode": args.mode,
        "device": args.device,
        "threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "precision": args.precision,
        "compile": args.compile_mode,
        "compile_seconds": compile_seconds,
    })
    if args.device == "cuda":
        result["peak_memory_bytes"] = torch.cuda.max_memory_allocated()
    if args.model == "vgg":
        result["image_size"] = args.image_size
    if args.model in ("cnn", "vgg"):
        result["memory_format"] = chosen
        result["memory_format_probe_ms"] = probe
    bc.emit(result)


if __name__ == "__main__":
    main()
