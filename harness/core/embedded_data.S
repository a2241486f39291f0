/* embedded_data.S - data compiled into the binary so that it runs from any directory.
 * The Libra artifact's predictor table (data/libra-artifact-predictors.csv, Apache-2.0). */
    .section .rodata
    .global hb_embedded_predictors
    .global hb_embedded_predictors_end
hb_embedded_predictors:
    .incbin "data/libra-artifact-predictors.csv"
hb_embedded_predictors_end:
    .byte 0
    .section .note.GNU-stack,"",@progbits
