#!/usr/bin/python3
"""Writes tests/data/opnodes: small models made of recorded tensor operations, for
tests/keras/op_nodes_test.cpp, built with h5py and numpy only (no Keras or TensorFlow here):

k3_*.keras   Keras 3 Functional models whose configs hold op nodes as Keras 3.15 writes them
             (module keras.src.ops.*, class = the operation's class, constructor arguments in
             `config`, call arguments inline in the inbound node's args/kwargs, numpy constants as
             {"class_name": "__numpy__"}); they exercise what the ops/ fixtures leave out:
             ellipses, negative steps and indices, None axes, constants on the left, broadcasting
             batch axes, dynamic sizes.
tf_*.h5      tf.keras 2.x Functional models with TFOpLambda / SlicingOpLambda layers, as
             keras/engine/node.py serializes them: the first call argument as the inbound entries
             ([layer, node, tensor, kwargs], a list of them, or ["_CONSTANT_VALUE", -1, value,
             kwargs]), every other argument by name in kwargs, tensors there as [layer, node,
             tensor]; slices as {"start", "stop", "step"} dicts.
Expected outputs come from numpy implementations of each operation's documented semantics
(<name>_input_<i>.npy, <name>_output_<i>.npy).
"""
import io, json, math, os, zipfile
import h5py
import numpy as np

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'data', 'opnodes')
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(13)
erf = np.vectorize(math.erf)


class T:
    """A symbolic tensor: which layer call made it, and its numpy value on the test inputs."""
    def __init__(self, layer, value, index=0):
        self.layer, self.value, self.index = layer, value, index


# ---------------------------------------------------------------- Keras 3 .keras files
class K3:
    def __init__(self, name):
        self.name, self.layers, self.inputs, self.counts = name, [], [], {}

    def input(self, shape, value):
        name = f'in_{len(self.inputs)}'
        self.layers.append({'module': 'keras.layers', 'class_name': 'InputLayer',
                            'config': {'batch_shape': [None] + list(shape), 'dtype': 'float32', 'sparse': False,
                                       'ragged': False, 'name': name, 'optional': False},
                            'registered_name': None, 'name': name, 'inbound_nodes': []})
        t = T(name, value.astype('f4'))
        self.inputs.append(t)
        return t

    @staticmethod
    def ser(a):
        if isinstance(a, T):
            return {'class_name': '__keras_tensor__', 'config': {'shape': [None] + list(a.value.shape[1:]), 'dtype': 'float32',
                                                                 'keras_history': [a.layer, 0, a.index]}}
        if isinstance(a, np.ndarray):
            return {'class_name': '__numpy__', 'config': {'value': a.tolist(), 'dtype': str(a.dtype)}}
        if isinstance(a, slice):
            return {'class_name': '__slice__', 'config': {'start': a.start, 'stop': a.stop, 'step': a.step}}
        if a is Ellipsis:
            return {'class_name': '__ellipsis__', 'config': {}}
        if isinstance(a, (list, tuple)):
            return [K3.ser(x) for x in a]
        if isinstance(a, dict) and 'class_name' not in a:
            return {k: K3.ser(v) for k, v in a.items()}
        return a

    def op(self, module, cls, value, args, kwargs=None, config=None, outputs=1):
        base = ''.join('_' + c.lower() if c.isupper() else c for c in cls).lstrip('_')
        k = self.counts.get(base, 0)
        self.counts[base] = k + 1
        name = base if k == 0 else f'{base}_{k}'
        self.layers.append({'module': f'keras.src.ops.{module}', 'class_name': cls, 'config': {'name': name, **(config or {})},
                            'registered_name': cls, 'name': name,
                            'inbound_nodes': [{'args': self.ser(list(args)), 'kwargs': self.ser(kwargs or {})}]})
        if outputs == 1:
            return T(name, np.asarray(value, 'f4'))
        return [T(name, np.asarray(v, 'f4'), i) for i, v in enumerate(value)]

    def save(self, outputs):
        config = {'module': 'keras.src.models.functional', 'class_name': 'Functional', 'registered_name': 'Functional',
                  'config': {'name': self.name, 'trainable': True, 'layers': self.layers,
                             'input_layers': [[t.layer, 0, 0] for t in self.inputs],
                             'output_layers': [[t.layer, 0, t.index] for t in outputs]}}
        weights = io.BytesIO()
        with h5py.File(weights, 'w') as f:
            f.create_group('layers')
            f.create_group('vars')
            for path, a in getattr(self, 'arrays', {}).items():
                f[path] = a
        with zipfile.ZipFile(os.path.join(out, self.name + '.keras'), 'w') as z:
            z.writestr(zipfile.ZipInfo('metadata.json', (1980, 1, 1, 0, 0, 0)),
                       json.dumps({'keras_version': '3.15.1', 'date_saved': '2025-01-01@00:00:00'}))
            z.writestr(zipfile.ZipInfo('config.json', (1980, 1, 1, 0, 0, 0)), json.dumps(config))
            z.writestr(zipfile.ZipInfo('model.weights.h5', (1980, 1, 1, 0, 0, 0)), weights.getvalue())
        save_arrays(self.name, self.inputs, outputs)


def save_arrays(name, inputs, outputs):
    for i, t in enumerate(inputs):
        np.save(os.path.join(out, f'{name}_input_{i}.npy'), t.value)
    for i, t in enumerate(outputs):
        np.save(os.path.join(out, f'{name}_output_{i}.npy'), np.asarray(t.value, 'f4'))


# k3_indexing: x[key] beyond the fixtures' forms.
m = K3('k3_indexing')
x = m.input((5, 6, 4), rng.standard_normal((3, 5, 6, 4)))
keys = [(Ellipsis, slice(None, None, -1), 1), (slice(None), slice(-2, None), None, slice(1, 5, 2)), (slice(None), 3),
        (slice(None), slice(None, None, -2), -1, slice(None)), (slice(None), Ellipsis, None), (slice(1, None),),
        (slice(None), slice(4, 0, -2), slice(None, -1))]
outs = [m.op('numpy', 'GetItem', x.value[k], [x, list(k)]) for k in keys]
m.save(outs)

# k3_arith: constants on either side, numpy constants, Python floor division and modulo.
m = K3('k3_arith')
x = m.input((3, 4), rng.standard_normal((2, 3, 4)))
y = m.input((1, 4), rng.standard_normal((2, 1, 4)))
c4 = rng.standard_normal(4).astype('f4')
c31 = rng.standard_normal((3, 1)).astype('f4')
outs = [
    m.op('numpy', 'Add', x.value + c4, [x, c4]),
    m.op('numpy', 'Subtract', 1.5 - x.value, [1.5, x]),
    m.op('numpy', 'TrueDivide', x.value / (c31 + 3), [x, (c31 + 3).astype('f4')]),
    m.op('numpy', 'FloorDivide', np.floor_divide(x.value, 0.7), [x, 0.7]),
    m.op('numpy', 'Mod', np.mod(x.value, -0.6), [x, -0.6]),
    m.op('numpy', 'Power', np.power(2.0, x.value), [2.0, x]),
    m.op('numpy', 'Maximum', np.maximum(x.value, y.value), [x, y]),
    m.op('numpy', 'Minimum', np.minimum(0.2, x.value), [0.2, x]),
    m.op('numpy', 'Divide', x.value / (np.abs(y.value) + 1), [x, m.op('numpy', 'Add', np.abs(y.value) + 1,
                                                                       [m.op('numpy', 'Absolute', np.abs(y.value), [y]), 1])]),
    m.op('numpy', 'LessEqual', (x.value <= y.value), [x, y]),
    m.op('numpy', 'NotEqual', (np.round(x.value) != 0), [m.op('numpy', 'Round', np.round(x.value), [x]), 0]),
    m.op('numpy', 'LogicalAnd', np.logical_and(x.value > 0, y.value > 0),
         [m.op('numpy', 'Greater', x.value > 0, [x, 0.0]), m.op('numpy', 'Greater', y.value > 0, [y, 0.0])]),
    m.op('numpy', 'Multiply', 0.5 * x.value, [0.5, x]),
]
m.save(outs)

# k3_reduce_shape: reductions with tuples, negative axes, keepdims and None; var, std, logsumexp;
# reshape, transpose with None, expand_dims / squeeze with tuples, stack, split, unstack.
m = K3('k3_reduce_shape')
x = m.input((3, 4), rng.standard_normal((2, 3, 4)))
xv = x.value
def lse(a, axis):
    mx = a.max(axis=axis, keepdims=True)
    return np.log(np.exp(a - mx).sum(axis=axis, keepdims=True)) + mx
tr = m.op('numpy', 'Transpose', xv.T, [x], config={'axes': None})
ed = m.op('numpy', 'ExpandDims', np.expand_dims(xv, (1, 3)), [x], config={'axis': [1, 3]})
st = m.op('numpy', 'Stack', np.stack([xv, xv * 2], axis=-1), [[x, m.op('numpy', 'Multiply', xv * 2, [x, 2.0])]], config={'axis': -1})
sp = m.op('numpy', 'Split', np.split(xv, [1, 3], axis=-1), [x], config={'indices_or_sections': [1, 3], 'axis': -1}, outputs=3)
us = m.op('numpy', 'Unstack', [xv[:, i] for i in range(3)], [x], config={'num': 3, 'axis': 1}, outputs=3)
outs = [
    m.op('numpy', 'Sum', xv.sum(axis=(1, 2), keepdims=True), [x], config={'axis': [1, -1], 'keepdims': True}),
    m.op('numpy', 'Mean', xv.mean(keepdims=True), [x], config={'axis': None, 'keepdims': True}),
    m.op('numpy', 'Max', xv.max(axis=-2), [x], config={'axis': -2, 'keepdims': False, 'initial': None}),
    m.op('numpy', 'Var', xv.var(axis=-1), [x], config={'axis': -1, 'keepdims': False}),
    m.op('numpy', 'Std', xv.std(axis=(1, 2), keepdims=True), [x], config={'axis': [1, 2], 'keepdims': True}),
    m.op('numpy', 'Logsumexp', lse(xv, 2)[..., 0], [x], config={'axis': 2, 'keepdims': False}),
    m.op('numpy', 'Reshape', xv.reshape(-1, 12), [x], config={'newshape': [-1, 12]}),
    m.op('numpy', 'Reshape', xv.reshape(-1, 2, 2), [x], config={'newshape': [-1, 2, 2]}),
    m.op('numpy', 'Transpose', xv, [tr], config={'axes': None}),
    m.op('numpy', 'Squeeze', xv, [ed], config={'axis': None}),
    st, sp[0], sp[2], us[1],
    m.op('numpy', 'Concatenate', np.concatenate([xv, xv], axis=1), [[x, x]], config={'axis': 1}),
]
m.save(outs)

# k3_gather_matmul: take with tensor / constant / None axes; matmul broadcasting and 1-D
# operands; einsum with an ellipsis and with an implicit output.
m = K3('k3_gather_matmul')
x = m.input((3, 4), rng.standard_normal((2, 3, 4)))
ids = m.input((2,), np.array([[0, -1], [2, 1]]))
a4 = m.input((2, 3, 4), rng.standard_normal((2, 2, 3, 4)))
b4 = m.input((1, 4, 5), rng.standard_normal((2, 1, 4, 5)))
idx = np.array([[3, -4], [1, 1]], 'int32')
w = rng.standard_normal((4, 2)).astype('f4')
v = rng.standard_normal(4).astype('f4')
outs = [
    m.op('numpy', 'Take', np.take(x.value, ids.value.astype(int), axis=1), [x, ids], config={'axis': 1}),
    m.op('numpy', 'Take', np.take(x.value, idx, axis=-1), [x, {'class_name': '__tensor__', 'config': {'value': idx.tolist(), 'dtype': 'int32'}}],
         config={'axis': -1}),
    m.op('numpy', 'Matmul', a4.value @ b4.value, [a4, b4]),
    m.op('numpy', 'Matmul', x.value @ w, [x, w]),
    m.op('numpy', 'Matmul', x.value @ v, [x, v]),
    m.op('numpy', 'Einsum', np.einsum('...ij,...kj->...ik', a4.value, a4.value), [a4, a4], config={'subscripts': '...ij,...kj->...ik'}),
    m.op('numpy', 'Einsum', np.einsum('bij,bjk', x.value, np.swapaxes(x.value, 1, 2)),
         [x, m.op('numpy', 'Transpose', np.swapaxes(x.value, 1, 2), [x], config={'axes': [0, 2, 1]})], config={'subscripts': 'bij,bjk'}),
]
m.save(outs)

# k3_select_act: where with constants, clip with tensor bounds, casts, and nn activations with
# their arguments.
m = K3('k3_select_act')
x = m.input((3, 5), rng.standard_normal((2, 3, 5)) * 2)
lo = m.input((1, 5), -np.abs(rng.standard_normal((2, 1, 5))))
xv = x.value
def softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
gt = m.op('numpy', 'Greater', xv > 0.3, [x, 0.3])
outs = [
    m.op('numpy', 'Where', np.where(xv > 0.3, xv, -1.0), [gt, x, -1.0]),
    m.op('numpy', 'Clip', np.minimum(np.maximum(xv, lo.value), 1.0), [x, lo, 1.0]),
    m.op('core', 'Cast', np.trunc(xv), [x], config={'dtype': 'int32'}),
    m.op('core', 'Cast', (np.trunc(xv) != 0), [m.op('core', 'Cast', np.trunc(xv), [x], config={'dtype': 'int32'})], config={'dtype': 'bool'}),
    m.op('nn', 'LeakyRelu', np.where(xv > 0, xv, 0.1 * xv), [x], config={'negative_slope': 0.1}),
    m.op('nn', 'Elu', np.where(xv > 0, xv, 0.5 * (np.exp(xv) - 1)), [x], config={'alpha': 0.5}),
    m.op('nn', 'Gelu', 0.5 * xv * (1 + erf(xv / np.sqrt(2))), [x], config={'approximate': False}),
    m.op('nn', 'Softmax', softmax(xv, (1, 2)), [x], config={'axis': [1, 2]}),
    m.op('nn', 'LogSoftmax', np.log(softmax(xv, 1)), [x], config={'axis': 1}),
    m.op('nn', 'Sigmoid', 1 / (1 + np.exp(-xv)), [x]),
    m.op('numpy', 'Sqrt', np.sqrt(np.abs(xv)), [m.op('numpy', 'Absolute', np.abs(xv), [x])]),
]
m.save(outs)

# k3_array: tile, repeat, flip, slice, pad, *_like, argmax/argmin, one_hot, triu/tril, swapaxes,
# moveaxis, normalize, dot, average, dot_product_attention.
m = K3('k3_array')
x = m.input((3, 4), rng.standard_normal((2, 3, 4)))
ids = m.input((3,), np.array([[0, 2, 1], [1, 1, 0]]))
q = m.input((5, 2, 3), rng.standard_normal((2, 5, 2, 3)))
xv = x.value
def l2n(a, axis, eps=1e-7):
    return a / np.maximum(np.sqrt((a * a).sum(axis=axis, keepdims=True)), eps)
def dpa(qv, causal):
    s = np.einsum('btnh,bsnh->bnts', qv, qv) / np.sqrt(qv.shape[-1])
    if causal:
        s = np.where(np.tril(np.ones((s.shape[2], s.shape[3]), bool)), s, -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True))
    return np.einsum('bnts,bsnh->btnh', e / e.sum(-1, keepdims=True), qv)
w43 = rng.standard_normal((4, 3)).astype('f4')
outs = [
    m.op('numpy', 'Tile', np.tile(xv, (1, 2, 1)), [x], config={'repeats': [2, 1]}),
    m.op('numpy', 'Repeat', np.repeat(xv, 2, axis=1), [x], config={'repeats': 2, 'axis': 1}),
    m.op('numpy', 'Repeat', np.repeat(xv, 3, axis=-1), [x], config={'repeats': 3, 'axis': -1}),
    m.op('numpy', 'Flip', xv[:, ::-1, ::-1], [x], config={'axis': [1, 2]}),
    m.op('core', 'Slice', xv[:, 1:3, 0:3], [x, [0, 1, 0]], config={'shape': [2, 2, 3]}),
    m.op('numpy', 'Pad', np.pad(xv, [(0, 0), (1, 2), (0, 1)], constant_values=0.5), [x], {'constant_values': 0.5},
         config={'pad_width': [[0, 0], [1, 2], [0, 1]], 'mode': 'constant'}),
    m.op('numpy', 'ZerosLike', np.zeros_like(xv), [x], config={'dtype': None}),
    m.op('numpy', 'FullLike', np.full_like(xv, 7.0), [x, 7.0], config={'dtype': None}),
    m.op('numpy', 'Argmax', xv.argmax(-1), [x], config={'axis': -1, 'keepdims': False}),
    m.op('numpy', 'Argmin', xv.argmin(1)[:, None], [x], config={'axis': 1, 'keepdims': True}),
    m.op('nn', 'OneHot', np.eye(3)[ids.value.astype(int)], [ids], config={'num_classes': 3, 'axis': -1, 'dtype': None, 'sparse': False}),
    m.op('numpy', 'Triu', np.triu(xv, 1), [x], config={'k': 1}),
    m.op('numpy', 'Tril', np.tril(xv, -1), [x], config={'k': -1}),
    m.op('numpy', 'Swapaxes', np.swapaxes(q.value, 1, 3), [q], config={'axis1': 1, 'axis2': -1}),
    m.op('numpy', 'Moveaxis', np.moveaxis(q.value, 1, 3), [q], config={'source': 1, 'destination': 3}),
    m.op('nn', 'Normalize', l2n(xv, -1), [x], config={'axis': -1, 'order': 2, 'epsilon': None}),
    m.op('numpy', 'Dot', xv @ w43, [x, w43]),
    m.op('numpy', 'Average', xv.mean(axis=1), [x], config={'axis': 1}),
    m.op('nn', 'DotProductAttention', dpa(q.value, False), [q, q, q], config={'is_causal': False}),
    m.op('nn', 'DotProductAttention', dpa(q.value, True), [q, q, q], config={'is_causal': True}),
]
m.save(outs)

# k3_convnext_layers: ConvNeXt's own LayerScale and StochasticDepth (module
# keras.src.applications.convnext) around a residual written with `+`.
m = K3('k3_convnext_layers')
x = m.input((4, 4, 3), rng.standard_normal((2, 4, 4, 3)))
gamma = rng.standard_normal(3).astype('f4')
m.arrays = {'layers/layer_scale/vars/0': gamma}
for cls, name, cfg in [('LayerScale', 'ls', {'init_values': 1e-6, 'projection_dim': 3}), ('StochasticDepth', 'sd', {'drop_path_rate': 0.1})]:
    m.layers.append({'module': 'keras.src.applications.convnext', 'class_name': cls, 'config': {'name': name, 'trainable': True, **cfg},
                     'registered_name': cls, 'name': name,
                     'inbound_nodes': [{'args': [K3.ser(x if cls == 'LayerScale' else T('ls', x.value))], 'kwargs': {}}]})
sd = T('sd', x.value * gamma)
m.save([m.op('numpy', 'Add', x.value + sd.value, [x, sd])])

# k3_stats: take from a constant table, moments, batch_normalization, ravel.
m = K3('k3_stats')
x = m.input((3, 4), rng.standard_normal((2, 3, 4)))
ids = m.input((3,), np.array([[0, 4, 1], [2, 2, 3]]))
table = rng.standard_normal((5, 2)).astype('f4')
xv = x.value
mean, var = xv.mean(axis=(0, 1)), xv.var(axis=(0, 1))
mo = m.op('nn', 'Moments', [mean, var], [x], config={'axes': [0, 1], 'keepdims': False, 'synchronized': False}, outputs=2)
gam, bet = rng.standard_normal(4).astype('f4'), rng.standard_normal(4).astype('f4')
m1 = xv.mean(axis=2, keepdims=True)
v1 = xv.var(axis=2, keepdims=True)
mo1 = m.op('nn', 'Moments', [m1, v1], [x], config={'axes': [-1], 'keepdims': True, 'synchronized': False}, outputs=2)
outs = [
    m.op('numpy', 'Take', table[ids.value.astype(int)], [table, ids], config={'axis': 0}),
    mo[0], mo[1],
    m.op('nn', 'BatchNorm', (xv - mean) / np.sqrt(var + 1e-3) * gam + bet, [x, mo[0], mo[1]], {'offset': bet, 'scale': gam},
         config={'axis': -1, 'epsilon': 1e-3}),
    m.op('nn', 'BatchNorm', (xv - m1) / np.sqrt(v1 + 1e-5), [x, mo1[0], mo1[1]], config={'axis': -1, 'epsilon': 1e-5}),
    m.op('numpy', 'Ravel', xv.ravel(), [x]),
    m.op('numpy', 'Sum', xv.sum(), [x], config={'axis': None, 'keepdims': False}),
    m.op('numpy', 'Argmax', xv.argmax(0), [x], config={'axis': 0, 'keepdims': False}),
]
m.save(outs)

# k3_image: image.extract_patches (valid with the default strides, same with strides 1) and
# image.rgb_to_grayscale.
m = K3('k3_image')
x = m.input((5, 6, 3), rng.standard_normal((2, 5, 6, 3)))
xv = x.value
def patches(a, ph, pw, sh, sw, pad_same):
    if pad_same:
        oh, ow = -(-a.shape[1] // sh), -(-a.shape[2] // sw)
        th, tw = max((oh - 1) * sh + ph - a.shape[1], 0), max((ow - 1) * sw + pw - a.shape[2], 0)
        a = np.pad(a, [(0, 0), (th // 2, th - th // 2), (tw // 2, tw - tw // 2), (0, 0)])
    else:
        oh, ow = (a.shape[1] - ph) // sh + 1, (a.shape[2] - pw) // sw + 1
    out = np.zeros((a.shape[0], oh, ow, ph * pw * a.shape[3]), 'f4')
    for i in range(oh):
        for j in range(ow):
            out[:, i, j] = a[:, i * sh:i * sh + ph, j * sw:j * sw + pw, :].reshape(a.shape[0], -1)
    return out
outs = [
    m.op('image', 'ExtractPatches', patches(xv, 2, 3, 2, 3, False), [x],
         config={'size': [2, 3], 'strides': None, 'dilation_rate': 1, 'padding': 'valid', 'data_format': None}),
    m.op('image', 'ExtractPatches', patches(xv, 2, 2, 1, 1, True), [x],
         config={'size': 2, 'strides': 1, 'dilation_rate': 1, 'padding': 'same', 'data_format': None}),
    m.op('image', 'RGBToGrayscale', (xv @ np.array([0.2989, 0.587, 0.114], 'f4'))[..., None], [x], config={'data_format': None}),
]
m.save(outs)


def keras3_legacy_h5(name):
    """The .h5 Keras 3 writes for the same model: configs without module/registered_name keys
    (legacy serialization), op nodes included (Keras itself cannot read those back)."""
    config = json.loads(zipfile.ZipFile(os.path.join(out, name + '.keras')).read('config.json'))
    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in ('module', 'registered_name')}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v
    config = strip(config)
    with h5py.File(os.path.join(out, name + '_legacy.h5'), 'w') as f:
        f.attrs['model_config'] = json.dumps(config).encode()
        f.attrs['keras_version'] = b'3.15.1'
        f.attrs['backend'] = b'numpy'
        g = f.create_group('model_weights')
        names = [l['name'] for l in config['config']['layers']]
        g.attrs['layer_names'] = np.array([n.encode() for n in names])
        for n in names:
            g.create_group(n).attrs['weight_names'] = np.array([], 'S1')
    for kind in ('input', 'output'):
        i = 0
        while os.path.exists(os.path.join(out, f'{name}_{kind}_{i}.npy')):
            np.save(os.path.join(out, f'{name}_legacy_{kind}_{i}.npy'), np.load(os.path.join(out, f'{name}_{kind}_{i}.npy')))
            i += 1


keras3_legacy_h5('k3_arith')
keras3_legacy_h5('k3_reduce_shape')

# ---------------------------------------------------------------- tf.keras .h5 files
class TF:
    def __init__(self, name):
        self.name, self.layers, self.inputs, self.counts = name, [], [], {}

    def input(self, shape, value):
        name = f'input_{len(self.inputs) + 1}'
        self.layers.append({'class_name': 'InputLayer', 'config': {'batch_input_shape': [None] + list(shape), 'dtype': 'float32',
                                                                   'sparse': False, 'ragged': False, 'name': name},
                            'name': name, 'inbound_nodes': []})
        t = T(name, value.astype('f4'))
        self.inputs.append(t)
        return t

    @staticmethod
    def ref(t):
        return [t.layer, 0, t.index]

    @staticmethod
    def ser(a):
        if isinstance(a, T):
            return TF.ref(a)
        if isinstance(a, slice):
            return {'start': a.start, 'stop': a.stop, 'step': a.step}
        if a is Ellipsis:
            return {'class_name': '__ellipsis__'}
        if isinstance(a, (list, tuple)):
            return [TF.ser(x) for x in a]
        if isinstance(a, np.ndarray):
            return a.tolist()
        return a

    def op(self, function, value, first, kwargs=None, cls='TFOpLambda', outputs=1):
        base = 'tf.' + function
        k = self.counts.get(base, 0)
        self.counts[base] = k + 1
        name = base if k == 0 else f'{base}_{k}'
        kw = {key: self.ser(v) for key, v in (kwargs or {}).items()}
        kw.setdefault('name', None)
        def entry(a):
            return [a.layer, 0, a.index, kw] if isinstance(a, T) else ['_CONSTANT_VALUE', -1, self.ser(a), kw]
        node = [entry(a) for a in first] if isinstance(first, list) else entry(first)
        self.layers.append({'class_name': cls, 'config': {'name': name, 'trainable': True, 'dtype': 'float32', 'function': function},
                            'name': name, 'inbound_nodes': [node]})
        if outputs == 1:
            return T(name, np.asarray(value, 'f4'))
        return [T(name, np.asarray(v, 'f4'), i) for i, v in enumerate(value)]

    def dense(self, x, units):
        w = rng.standard_normal((x.value.shape[-1], units)).astype('f4') / 2
        b = rng.standard_normal(units).astype('f4') / 5
        name = f'dense_{self.counts.get("dense", 0)}'
        self.counts['dense'] = self.counts.get('dense', 0) + 1
        self.layers.append({'class_name': 'Dense', 'config': {'name': name, 'trainable': True, 'dtype': 'float32', 'units': units,
                                                              'activation': 'linear', 'use_bias': True},
                            'name': name, 'inbound_nodes': [[[x.layer, 0, x.index, {}]]]})
        self.weights = getattr(self, 'weights', {})
        self.weights[name] = (w, b)
        return T(name, x.value @ w + b)

    def save(self, outputs):
        config = {'class_name': 'Functional', 'config': {'name': self.name, 'layers': self.layers,
                                                        'input_layers': [self.ref(t) for t in self.inputs],
                                                        'output_layers': [self.ref(t) for t in outputs]}}
        weights = getattr(self, 'weights', {})
        with h5py.File(os.path.join(out, self.name + '.h5'), 'w') as f:
            f.attrs['model_config'] = json.dumps(config).encode()
            f.attrs['keras_version'] = b'2.13.1'
            f.attrs['backend'] = b'tensorflow'
            g = f.create_group('model_weights')
            names = [l['name'] for l in self.layers]
            g.attrs['layer_names'] = np.array([n.encode() for n in names])
            g.attrs['backend'] = b'tensorflow'
            g.attrs['keras_version'] = b'2.13.1'
            for n in names:
                lg = g.create_group(n)
                if n == 'mha' and hasattr(self, 'mha'):
                    lg.attrs['weight_names'] = np.array([k.encode() for k, _ in self.mha])
                    for k, a in self.mha:
                        lg[k] = a
                elif n in weights:
                    lg.attrs['weight_names'] = np.array([f'{n}/kernel:0'.encode(), f'{n}/bias:0'.encode()])
                    lg[f'{n}/kernel:0'] = weights[n][0]
                    lg[f'{n}/bias:0'] = weights[n][1]
                else:
                    lg.attrs['weight_names'] = np.array([], 'S1')
        save_arrays(self.name, self.inputs, outputs)


# tf_mobilenet_block: MobileNetV3's hard-swish as tf.keras 2.x applications write it, and the
# arithmetic operators between layers.
m = TF('tf_hard_swish')
x = m.input((4, 3), rng.standard_normal((2, 4, 3)) * 3)
h = m.dense(x, 5)
a = m.op('__operators__.add', h.value + 3.0, h, {'y': 3.0})
r6 = m.op('nn.relu6', np.clip(a.value, 0, 6), a)
s = m.op('math.multiply', r6.value * (1.0 / 6.0), r6, {'y': 1.0 / 6.0})
hs = m.op('math.multiply', h.value * s.value, h, {'y': s})
neg = m.op('math.subtract', 3.0 - hs.value, 3.0, {'y': hs})
div = m.op('math.truediv', neg.value / 4.0, neg, {'y': 4.0})
m.save([hs, div])

# tf_shape_ops: reshape, transpose, expand_dims, concat of a list, reductions, matmul, softmax,
# slicing, where, cast.
m = TF('tf_shape_ops')
x = m.input((3, 4), rng.standard_normal((2, 3, 4)))
y = m.input((4, 2), rng.standard_normal((2, 4, 2)))
xv, yv = x.value, y.value
def softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
rs = m.op('reshape', xv.reshape(-1, 12), x, {'shape': [-1, 12]})
tp = m.op('compat.v1.transpose', np.transpose(xv, (0, 2, 1)), x, {'perm': [0, 2, 1], 'conjugate': False})
ed = m.op('expand_dims', np.expand_dims(xv, 1), x, {'axis': 1})
cc = m.op('concat', np.concatenate([xv, xv * 0.5], -1), [x, m.op('math.multiply', xv * 0.5, x, {'y': 0.5})], {'axis': -1})
mean = m.op('math.reduce_mean', xv.mean(-1, keepdims=True), x, {'axis': -1, 'keepdims': True})
sm = m.op('math.reduce_sum', xv.sum((1, 2)), x, {'axis': [1, 2], 'keepdims': False})
mm = m.op('linalg.matmul', xv @ yv, x, {'b': y, 'transpose_a': False, 'transpose_b': False, 'adjoint_a': False,
                                       'adjoint_b': False, 'a_is_sparse': False, 'b_is_sparse': False, 'output_type': None})
so = m.op('nn.softmax', softmax(mm.value, -1), mm, {'axis': -1})
sl = m.op('__operators__.getitem', xv[:, 1:, ::-2], x, {'slice_spec': [slice(None), slice(1, None), slice(None, None, -2)], 'var': None},
          cls='SlicingOpLambda')
sl2 = m.op('__operators__.getitem', xv[..., 0], x, {'slice_spec': [Ellipsis, 0], 'var': None}, cls='SlicingOpLambda')
wh = m.op('where', np.where(xv > 0, xv, yv[:, :3, :1]),
          m.op('math.greater', xv > 0, x, {'y': 0.0}),
          {'x': x, 'y': m.op('__operators__.getitem', yv[:, :3, :1], y,
                             {'slice_spec': [slice(None), slice(None, 3), slice(None, 1)], 'var': None}, cls='SlicingOpLambda')})
ct = m.op('cast', np.trunc(xv * 3), m.op('math.multiply', xv * 3, x, {'y': 3.0}), {'dtype': 'int32'})
st = m.op('stack', np.stack([xv, xv], 1), [x, x], {'axis': 1})
sp = m.op('split', np.split(xv, [1, 4], -1), x, {'num_or_size_splits': [1, -1], 'axis': -1}, outputs=2)
bias = rng.standard_normal(4).astype('f4')
ba = m.op('nn.bias_add', xv + bias, x, {'bias': bias, 'data_format': None})
an = m.op('math.add_n', xv * 3, [x, x, x], {})
m.save([rs, tp, ed, cc, mean, sm, so, sl, sl2, wh, ct, st, sp[1], ba, an])

# tf_kwarg_tensors: tf.keras 2 passes tensors by keyword in a layer's node kwargs
# (MultiHeadAttention(query, value=...)): [[query_layer, 0, 0, {"value": [layer, 0, 0]}]].
m = TF('tf_kwarg_tensors')
x = m.input((4, 6), rng.standard_normal((2, 4, 6)))
y = m.input((5, 6), rng.standard_normal((2, 5, 6)))
heads, kd = 2, 3
mha_w = {n: (rng.standard_normal((6, heads, kd)).astype('f4') / 2, rng.standard_normal((heads, kd)).astype('f4') / 5)
         for n in ('query', 'key', 'value')}
wo, bo = rng.standard_normal((heads, kd, 6)).astype('f4') / 2, rng.standard_normal(6).astype('f4') / 5
qp = np.einsum('abc,cde->abde', x.value, mha_w['query'][0]) + mha_w['query'][1]
kp = np.einsum('abc,cde->abde', y.value, mha_w['key'][0]) + mha_w['key'][1]
vp = np.einsum('abc,cde->abde', y.value, mha_w['value'][0]) + mha_w['value'][1]
sc = np.einsum('aecd,abcd->acbe', kp, qp) / np.sqrt(kd)
pr = np.exp(sc - sc.max(-1, keepdims=True))
pr /= pr.sum(-1, keepdims=True)
att = np.einsum('abcd,cde->abe', np.einsum('acbe,aecd->abcd', pr, vp), wo) + bo
m.layers.append({'class_name': 'MultiHeadAttention', 'config': {'name': 'mha', 'trainable': True, 'dtype': 'float32', 'num_heads': heads,
                                                                'key_dim': kd, 'value_dim': kd, 'dropout': 0.0, 'use_bias': True,
                                                                'output_shape': None, 'attention_axes': None},
                 'name': 'mha', 'inbound_nodes': [[['input_1', 0, 0, {'value': ['input_2', 0, 0]}]]]})
m.weights = {}
m.mha = [(f'mha/{n}/kernel:0', w) for n, (w, _) in mha_w.items()] + [(f'mha/{n}/bias:0', b) for n, (_, b) in mha_w.items()] + \
        [('mha/attention_output/kernel:0', wo), ('mha/attention_output/bias:0', bo)]
m.save([T('mha', att)])

# tf_shape_reshape: tf.shape(x)[0] as the batch size of a reshape target (split-heads style),
# tf.shape(x)[-1] as a number in arithmetic, and a target built by tf.stack... of shapes.
m = TF('tf_shape_reshape')
x = m.input((6, 4), rng.standard_normal((3, 6, 4)))
xv = x.value
sh = m.op('shape', np.array(xv.shape), x, {'out_type': 'int32'})
b = m.op('__operators__.getitem', np.array(xv.shape[0]), sh, {'slice_spec': 0, 'var': None}, cls='SlicingOpLambda')
d = m.op('__operators__.getitem', np.array(xv.shape[-1]), sh, {'slice_spec': -1, 'var': None}, cls='SlicingOpLambda')
heads = m.op('reshape', xv.reshape(3, -1, 2, 2), x, {'shape': [b, -1, 2, 2]})
back = m.op('reshape', xv.reshape(3, 24), m.op('compat.v1.transpose', np.transpose(heads.value, (0, 2, 1, 3)), heads,
                                                  {'perm': [0, 2, 1, 3], 'conjugate': False}), {'shape': [b, -1]})
scaled = m.op('math.truediv', xv / np.sqrt(4.0), x,
              {'y': m.op('math.sqrt', np.sqrt(4.0), m.op('cast', np.float32(4), d, {'dtype': 'float32'}))})
m.save([heads, T(back.layer, np.transpose(xv.reshape(3, 6, 2, 2), (0, 2, 1, 3)).reshape(3, 24)), scaled])

# refused_*: operations kerasrt does not import must be refused at load, naming them.
m = K3('refused_k3_op')
x = m.input((4,), rng.standard_normal((2, 4)))
m.save([m.op('math', 'Fft2', x.value, [x])])
m = TF('refused_tf_function')
x = m.input((4,), rng.standard_normal((2, 4)))
m.save([m.op('signal.rfft', x.value, x, {'fft_length': None})])
print('wrote', sorted(os.listdir(out)))
