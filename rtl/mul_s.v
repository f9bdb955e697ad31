// mul_s: registered multiplier p = a * b, one cycle latency, no reset.
//
// a is unsigned or signed (A_SIGNED), b is signed; the full product always fits the
// A_W + B_W bit signed result. The product register has a clock enable and no reset so
// that yosys `synth_ice40 -dsp` packs multiplier and register into one SB_MAC16 on UP5K
// (operands up to 16 x 16 bits signed, 15 x 16 when a is unsigned); elsewhere it becomes
// LUTs. The register is datapath only: qualify it with a valid bit kept by the caller.
`default_nettype none

module mul_s #(
    parameter A_W      = 8,  // width of a
    parameter A_SIGNED = 0,  // 1: a is two's complement, 0: a is unsigned
    parameter B_W      = 8   // width of b (signed)
) (
    input  wire                        clk,
    input  wire                        ce,  // load the product of this cycle's operands
    input  wire        [A_W-1:0]       a,
    input  wire signed [B_W-1:0]       b,
    output reg  signed [A_W+B_W-1:0]   p
);

    localparam P_W = A_W + B_W;

    // Both operands sign-extended to the product width: the low P_W bits of the product
    // are the exact result, and every operand has the width of the result.
    wire signed [P_W-1:0] a_ext;
    wire signed [P_W-1:0] b_ext = {{A_W{b[B_W-1]}}, b};

    generate
        if (A_SIGNED != 0) begin : g_a_signed
            assign a_ext = {{B_W{a[A_W-1]}}, a};
        end else begin : g_a_unsigned
            assign a_ext = {{B_W{1'b0}}, a};
        end
    endgenerate

    always @(posedge clk) begin
        if (ce) p <= a_ext * b_ext;
    end

endmodule

`default_nettype wire
