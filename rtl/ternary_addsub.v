// ternary_addsub: sum = acc + code * x with code in {0, +1, -1}, one shared carry chain.
//
// Code patterns (docs/arithmetic.md section 2): 00 = skip, 01 = add, 11 = subtract,
// 10 = illegal. The adder is acc + ((x & {W{code[0]}}) ^ {W{code[1]}}) + code[1]:
//   00 -> acc + 0 + 0          (skip)
//   01 -> acc + x + 0          (add)
//   11 -> acc + ~x + 1         (subtract, two's complement)
//   10 -> acc + ~0 + 1 = acc   (illegal pattern: acts as skip, modulo 2^W)
// Each operand bit is a 3-input function of x[i] and the two code bits, so it folds into
// the LUT4 in front of each SB_CARRY. The result wraps at W bits: the caller proves the
// width (contract section 6) or widens the operands and saturates afterwards.
`default_nettype none

module ternary_addsub #(
    parameter W = 19  // operand and result width (two's complement)
) (
    input  wire signed [W-1:0] acc,   // accumulator in
    input  wire signed [W-1:0] x,     // value to add, subtract or skip
    input  wire        [1:0]   code,  // ternary weight pattern
    output wire signed [W-1:0] sum    // acc + code * x, modulo 2^W
);

    wire         en  = code[0];  // 1 for add and subtract
    wire         neg = code[1];  // 1 for subtract (and the illegal 10, which cancels out)
    wire [W-1:0] operand = (x & {W{en}}) ^ {W{neg}};

    assign sum = acc + operand + {{(W-1){1'b0}}, neg};

endmodule

`default_nettype wire
