"""tf.Transform preprocessing: the graph the Trainer trains on and the served model embeds."""
