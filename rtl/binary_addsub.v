// binary_addsub: sum = acc + x (code 0) or acc - x (code 1), one shared carry chain.
//
// Binary weight pattern (docs/arithmetic.md section 2): the bit is the sign, 0 = +1,
// 1 = -1. The adder is acc + (x ^ {W{code}}) + code. The result wraps at W bits: the
// caller proves the width or widens the operands and saturates afterwards.
`default_nettype none

module binary_addsub #(
    parameter W = 19  // operand and result width (two's complement)
) (
    input  wire signed [W-1:0] acc,   // accumulator in
    input  wire signed [W-1:0] x,     // value to add or subtract
    input  wire                code,  // 0 = add, 1 = subtract
    output wire signed [W-1:0] sum    // acc +/- x, modulo 2^W
);

    wire [W-1:0] operand = x ^ {W{code}};

    assign sum = acc + operand + {{(W-1){1'b0}}, code};

endmodule

`default_nettype wire
