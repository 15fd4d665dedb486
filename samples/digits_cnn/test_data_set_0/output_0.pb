
BprobsJ(\ý?oE‚2Q„0Gd-FFT2BÏ1„žÃ7Þ›ð.R?Ž7'õÓ1