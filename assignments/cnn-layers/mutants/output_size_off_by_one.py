def conv_output_size(h, w, fh, fw, stride=1, pad=0):
    return (h + 2 * pad - fh) // stride, (w + 2 * pad - fw) // stride  # the + 1 is missing
