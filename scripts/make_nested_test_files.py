#!/usr/bin/python3
"""Writes tests/data/nested: Keras 3 .keras files of models nested in models, for
tests/keras/nested_models_test.cpp, built with h5py and numpy only (no Keras here). Configs
follow keras/src/models/functional.py (get_config / serialize_node): a call argument names a
layer's call among the calls of the model that holds it, counting from 0 also for a nested
Functional, while input_layers / output_layers count a nested Functional's calls from 1 (its
construction node comes first). Weights follow saving_lib: layers/<key>/[layers/<key>/...]vars/<i>,
keys being snake_case class names with per-class counters in layer order (Sequential leaves its
InputLayer out).

nested_branching.keras  Functional outer model:
    x -> F (a Functional whose graph branches: concat(in, dense(in)) -> dense) -> y1
    y1 -> F again (shared, second call) -> y2
    x -> S (a Sequential holding another branching Functional G, then a Dense) -> z
    outputs: dense(concat(y1, y2, z)), y2 (the second call of F, as output_layers names it)
sequential_of_functional.keras  Sequential [F3 (branching Functional), Dense, F4 (Functional
    holding a Sequential)]: Functional inside Sequential inside Functional, three levels.
"""
import io, json, os, zipfile
import h5py
import numpy as np

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'data', 'nested')
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(21)


def ref(layer, node, tensor=0):
    return {'class_name': '__keras_tensor__', 'config': {'shape': None, 'dtype': 'float32', 'keras_history': [layer, node, tensor]}}


def input_layer(name, shape):
    return {'module': 'keras.layers', 'class_name': 'InputLayer',
            'config': {'batch_shape': [None] + shape, 'dtype': 'float32', 'sparse': False, 'ragged': False, 'name': name},
            'registered_name': None, 'name': name, 'inbound_nodes': []}


def node(*args):
    return {'args': list(args), 'kwargs': {}}


class Weights:
    """Collects arrays by their saving_lib path."""
    def __init__(self):
        self.arrays = {}

    def dense(self, path, n_in, n_out):
        w = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype('f4')
        b = (rng.standard_normal(n_out) * 0.2).astype('f4')
        self.arrays[path + '/vars/0'] = w
        self.arrays[path + '/vars/1'] = b
        return w, b


def dense_layer(name, units, activation, inbound):
    return {'module': 'keras.layers', 'class_name': 'Dense',
            'config': {'name': name, 'trainable': True, 'units': units, 'activation': activation, 'use_bias': True},
            'registered_name': None, 'name': name, 'inbound_nodes': inbound}


def relu(a):
    return np.maximum(a, 0)


def branching(name, prefix, weights, width):
    """A Functional: in -> [in, relu(dense(in))] concatenated -> dense -> out (width -> width)."""
    w1, b1 = weights.dense(prefix + '/layers/dense', width, width)
    w2, b2 = weights.dense(prefix + '/layers/dense_1', 2 * width, width)
    config = {'name': name, 'trainable': True, 'layers': [
        input_layer(name + '_in', [width]),
        dense_layer(name + '_d1', width, 'relu', [node(ref(name + '_in', 0))]),
        {'module': 'keras.layers', 'class_name': 'Concatenate', 'config': {'name': name + '_cat', 'axis': -1},
         'registered_name': None, 'name': name + '_cat', 'inbound_nodes': [node([ref(name + '_in', 0), ref(name + '_d1', 0)])]},
        dense_layer(name + '_d2', width, 'linear', [node(ref(name + '_cat', 0))]),
    ], 'input_layers': [[name + '_in', 0, 0]], 'output_layers': [[name + '_d2', 0, 0]]}
    fn = lambda a: np.concatenate([a, relu(a @ w1 + b1)], -1) @ w2 + b2
    return config, fn


def functional_entry(config, inbound):
    return {'module': 'keras.src.models.functional', 'class_name': 'Functional', 'config': config,
            'registered_name': 'Functional', 'name': config['name'], 'inbound_nodes': inbound}


def save(name, config, weights, inputs, outputs):
    buf = io.BytesIO()
    with h5py.File(buf, 'w') as f:
        f.create_group('layers')
        f.create_group('vars')
        for path, a in weights.arrays.items():
            f[path] = a
    with zipfile.ZipFile(os.path.join(out, name + '.keras'), 'w') as z:
        z.writestr(zipfile.ZipInfo('metadata.json', (1980, 1, 1, 0, 0, 0)), json.dumps({'keras_version': '3.15.1'}))
        z.writestr(zipfile.ZipInfo('config.json', (1980, 1, 1, 0, 0, 0)), json.dumps(config))
        z.writestr(zipfile.ZipInfo('model.weights.h5', (1980, 1, 1, 0, 0, 0)), buf.getvalue())
    for i, a in enumerate(inputs):
        np.save(os.path.join(out, f'{name}_input_{i}.npy'), a.astype('f4'))
    for i, a in enumerate(outputs):
        np.save(os.path.join(out, f'{name}_output_{i}.npy'), a.astype('f4'))


# nested_branching.keras
W = Weights()
x = rng.standard_normal((3, 4)).astype('f4')
f_config, f = branching('f', 'layers/functional', W, 4)
g_config, g = branching('g', 'layers/sequential/layers/functional', W, 4)
ws, bs = W.dense('layers/sequential/layers/dense', 4, 4)
wo, bo = W.dense('layers/dense', 12, 2)
seq = {'module': 'keras', 'class_name': 'Sequential', 'registered_name': None, 'name': 's',
       'config': {'name': 's', 'trainable': True, 'layers': [
           input_layer('s_in', [4]), functional_entry(g_config, []) | {'inbound_nodes': []},
           {'module': 'keras.layers', 'class_name': 'Dense', 'config': {'name': 's_dense', 'trainable': True, 'units': 4,
                                                                        'activation': 'tanh', 'use_bias': True},
            'registered_name': None}], 'build_input_shape': [None, 4]},
       'inbound_nodes': [node(ref('x', 0))]}
y1 = f(x)
y2 = f(y1)
z = np.tanh(g(x) @ ws + bs)
config = {'module': 'keras.src.models.functional', 'class_name': 'Functional', 'registered_name': 'Functional',
          'config': {'name': 'outer', 'trainable': True, 'layers': [
              input_layer('x', [4]),
              functional_entry(f_config, [node(ref('x', 0)), node(ref('f', 0))]),
              seq,
              {'module': 'keras.layers', 'class_name': 'Concatenate', 'config': {'name': 'cat', 'axis': -1},
               'registered_name': None, 'name': 'cat', 'inbound_nodes': [node([ref('f', 0), ref('f', 1), ref('s', 0)])]},
              dense_layer('out', 2, 'linear', [node(ref('cat', 0))]),
          ], 'input_layers': [['x', 0, 0]], 'output_layers': [['out', 0, 0], ['f', 2, 0]]}}
save('nested_branching', config, W, [x], [np.concatenate([y1, y2, z], -1) @ wo + bo, y2])

# sequential_of_functional.keras: Sequential [F3, Dense, F4 (Functional holding a Sequential)].
W = Weights()
x = rng.standard_normal((2, 5)).astype('f4')
f3_config, f3 = branching('f3', 'layers/functional', W, 5)
wd, bd = W.dense('layers/dense', 5, 3)
wi, bi = W.dense('layers/functional_1/layers/sequential/layers/dense', 3, 3)
inner_seq = {'module': 'keras', 'class_name': 'Sequential', 'registered_name': None, 'name': 'inner_seq',
             'config': {'name': 'inner_seq', 'trainable': True, 'layers': [
                 input_layer('inner_seq_in', [3]),
                 {'module': 'keras.layers', 'class_name': 'Dense', 'config': {'name': 'inner_dense', 'trainable': True, 'units': 3,
                                                                              'activation': 'relu', 'use_bias': True},
                  'registered_name': None}]},
             'inbound_nodes': [node(ref('f4_in', 0))]}
f4_config = {'name': 'f4', 'trainable': True, 'layers': [
    input_layer('f4_in', [3]), inner_seq,
    {'module': 'keras.layers', 'class_name': 'Add', 'config': {'name': 'f4_add'}, 'registered_name': None, 'name': 'f4_add',
     'inbound_nodes': [node([ref('f4_in', 0), ref('inner_seq', 0)])]}],
    'input_layers': [['f4_in', 0, 0]], 'output_layers': [['f4_add', 0, 0]]}
h = f3(x) @ wd + bd
y = h + relu(h @ wi + bi)
config = {'module': 'keras', 'class_name': 'Sequential', 'registered_name': None,
          'config': {'name': 'outer_seq', 'trainable': True, 'layers': [
              input_layer('seq_in', [5]),
              functional_entry(f3_config, []) | {'inbound_nodes': []},
              {'module': 'keras.layers', 'class_name': 'Dense', 'config': {'name': 'mid', 'trainable': True, 'units': 3,
                                                                           'activation': 'linear', 'use_bias': True},
               'registered_name': None},
              functional_entry(f4_config, []) | {'inbound_nodes': []}]}}
save('sequential_of_functional', config, W, [x], [y])

# sequential_multi_output.keras: a Sequential whose last layer (a Functional with two outputs)
# returns two tensors: Keras gives the model both outputs.
W = Weights()
x = rng.standard_normal((2, 4)).astype('f4')
wa, ba = W.dense('layers/dense', 4, 4)
w5, b5 = W.dense('layers/functional/layers/dense', 4, 3)
f5_config = {'name': 'f5', 'trainable': True, 'layers': [
    input_layer('f5_in', [4]), dense_layer('f5_d', 3, 'sigmoid', [node(ref('f5_in', 0))])],
    'input_layers': [['f5_in', 0, 0]], 'output_layers': [['f5_d', 0, 0], ['f5_in', 0, 0]]}
h = x @ wa + ba
config = {'module': 'keras', 'class_name': 'Sequential', 'registered_name': None,
          'config': {'name': 'two_heads', 'trainable': True, 'layers': [
              input_layer('two_in', [4]),
              {'module': 'keras.layers', 'class_name': 'Dense', 'config': {'name': 'first', 'trainable': True, 'units': 4,
                                                                           'activation': 'linear', 'use_bias': True},
               'registered_name': None},
              functional_entry(f5_config, []) | {'inbound_nodes': []}]}}
save('sequential_multi_output', config, W, [x], [1 / (1 + np.exp(-(h @ w5 + b5))), h])
print('wrote', sorted(os.listdir(out)))
