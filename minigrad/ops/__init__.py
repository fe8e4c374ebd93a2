"""The operations: one module per family, each op a ``Function`` with forward and backward.

| module | ops |
|---|---|
| ``elementwise`` | add sub mul div neg pow exp log sqrt sin cos abs maximum minimum where |
| | clip |
| ``reduce`` | sum mean var max min logsumexp |
| ``shape`` | reshape transpose flatten squeeze unsqueeze broadcast_to astype getitem concat |
| | stack pad |
| ``linalg`` | matmul linear |
| ``activation`` | relu leaky_relu sigmoid tanh softmax log_softmax |
| ``loss`` | cross_entropy nll_loss mse_loss binary_cross_entropy_with_logits |
| ``compare`` | comparisons, argmax, argmin (no gradient) |
| ``conv``, ``pool`` | conv2d; max_pool2d avg_pool2d |
| ``norm``, ``dropout`` | batch_norm; dropout |
| ``recurrent`` | lstm_step gru_step rnn_step (one time step each), unbind, embedding |
"""
