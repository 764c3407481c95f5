#!/usr/bin/python3
"""Writes tests/data/legacy: small files in layouts real Keras versions wrote, built with h5py
and numpy only (no Keras here), for tests/keras/legacy_test.cpp. Each file mirrors what the named
Keras version's saving code writes (keras/engine/saving.py, tf-keras saving_lib):

chunked_names.h5     Keras 2.x full model whose layer_names / weight_names attributes are split
                     into chunks (layer_names0, layer_names1, ...), as save_attributes_to_hdf5_group
                     does past HDF5's 64 KB header limit.
keras1_dense_th.h5   Keras 1.2.2 full model (no backend attribute, bare-list Sequential, Keras 1
                     keys, dense_1_W names) with a channels_first ('th') Convolution2D.
Reference outputs are computed here with numpy from the same arrays.
"""
import json, os
import h5py
import numpy as np

out = os.path.join(os.path.dirname(__file__), '..', 'tests', 'data', 'legacy')
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)

def attr_strings(values):
    return np.array([v.encode() for v in values])

# chunked_names.h5: Dense(3, relu) -> Dense(2)
w1, b1 = rng.standard_normal((4, 3)).astype('f4'), rng.standard_normal(3).astype('f4')
w2, b2 = rng.standard_normal((3, 2)).astype('f4'), rng.standard_normal(2).astype('f4')
config = {'class_name': 'Sequential', 'config': {'name': 'seq', 'layers': [
    {'class_name': 'Dense', 'config': {'name': 'fc1', 'units': 3, 'activation': 'relu', 'use_bias': True,
                                        'batch_input_shape': [None, 4]}},
    {'class_name': 'Dense', 'config': {'name': 'fc2', 'units': 2, 'activation': 'linear', 'use_bias': True}}]}}
with h5py.File(os.path.join(out, 'chunked_names.h5'), 'w') as f:
    f.attrs['model_config'] = json.dumps(config).encode()
    f.attrs['keras_version'] = b'2.2.4'
    f.attrs['backend'] = b'tensorflow'
    g = f.create_group('model_weights')
    g.attrs['layer_names0'] = attr_strings(['fc1'])
    g.attrs['layer_names1'] = attr_strings(['fc2'])
    for name, (w, b) in {'fc1': (w1, b1), 'fc2': (w2, b2)}.items():
        lg = g.create_group(name)
        lg.attrs['weight_names0'] = attr_strings([f'{name}/kernel:0'])
        lg.attrs['weight_names1'] = attr_strings([f'{name}/bias:0'])
        lg[f'{name}/kernel:0'] = w
        lg[f'{name}/bias:0'] = b
x = rng.standard_normal((2, 4)).astype('f4')
np.save(os.path.join(out, 'chunked_names_input_0.npy'), x)
np.save(os.path.join(out, 'chunked_names_output_0.npy'), (np.maximum(x @ w1 + b1, 0) @ w2 + b2).astype('f4'))

# keras1_dense_th.h5: Convolution2D(2 filters, 2x2, th) on (3, 4, 4) -> Flatten -> Dense(2)
k_th = rng.standard_normal((2, 3, 2, 2)).astype('f4')   # Keras 1 'th': (filters, channels, rows, cols)
kb = rng.standard_normal(2).astype('f4')
dw, db = rng.standard_normal((2 * 3 * 3, 2)).astype('f4'), rng.standard_normal(2).astype('f4')
layers = [
    {'class_name': 'Convolution2D', 'config': {'name': 'convolution2d_1', 'nb_filter': 2, 'nb_row': 2, 'nb_col': 2,
        'init': 'glorot_uniform', 'activation': 'linear', 'border_mode': 'valid', 'subsample': [1, 1],
        'dim_ordering': 'th', 'W_regularizer': None, 'bias': True, 'batch_input_shape': [None, 3, 4, 4],
        'input_dtype': 'float32', 'trainable': True}},
    {'class_name': 'Flatten', 'config': {'name': 'flatten_1', 'trainable': True}},
    {'class_name': 'Dense', 'config': {'name': 'dense_1', 'output_dim': 2, 'init': 'glorot_uniform',
        'activation': 'linear', 'bias': True, 'input_dim': 18, 'trainable': True}}]
with h5py.File(os.path.join(out, 'keras1_dense_th.h5'), 'w') as f:
    f.attrs['model_config'] = json.dumps({'class_name': 'Sequential', 'config': layers}).encode()
    f.attrs['keras_version'] = b'1.2.2'
    g = f.create_group('model_weights')
    g.attrs['layer_names'] = attr_strings(['convolution2d_1', 'flatten_1', 'dense_1'])
    for name, arrays in {'convolution2d_1': [('W', k_th), ('b', kb)], 'flatten_1': [], 'dense_1': [('W', dw), ('b', db)]}.items():
        lg = g.create_group(name)
        lg.attrs['weight_names'] = attr_strings([f'{name}_{s}' for s, _ in arrays]) if arrays else np.array([], 'f8')
        for s, a in arrays:
            lg[f'{name}_{s}'] = a
x = rng.standard_normal((2, 3, 4, 4)).astype('f4')
conv = np.zeros((2, 2, 3, 3), 'f4')  # Theano-era Keras 1 on TensorFlow: cross-correlation, NCHW
for i in range(3):
    for j in range(3):
        conv[:, :, i, j] = np.einsum('ncij,fcij->nf', x[:, :, i:i + 2, j:j + 2], k_th) + kb
np.save(os.path.join(out, 'keras1_dense_th_input_0.npy'), x)
np.save(os.path.join(out, 'keras1_dense_th_output_0.npy'), (conv.reshape(2, -1) @ dw + db).astype('f4'))
