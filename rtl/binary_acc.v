// binary_acc: stream accumulator of binary synapses, acc += (+1 or -1) * x over a packet of beats.
//
// The binary variant of ternary_acc with the same handshake, timing and saturation: a binary
// code b (0 = +1, 1 = -1) is the ternary code {b, 1} (01 add, 11 subtract), so the skip gate
// of the shared carry chain is constant and synthesis removes it. Reference:
// icespike.fixed.binary_accumulate (docs/arithmetic.md s. 2, 6).
`default_nettype none

module binary_acc #(
    parameter ACC_W    = 19,  // accumulator / result width (signed)
    parameter X_W      = 8,   // input width
    parameter X_SIGNED = 0,   // 1: s_x is two's complement, 0: s_x is unsigned
    parameter SATURATE = 0    // 1: clamp to the signed ACC_W range after every beat;
                              // 0: the caller proved ACC_W wide enough (result wraps)
) (
    input  wire                    clk,
    input  wire                    rst,
    // input beats
    input  wire                    s_valid,
    output wire                    s_ready,
    input  wire [X_W-1:0]          s_x,
    input  wire                    s_code,   // 0 add (+1), 1 subtract (-1)
    input  wire                    s_last,
    // packet results
    output wire                    m_valid,
    input  wire                    m_ready,
    output wire signed [ACC_W-1:0] m_acc
);

    ternary_acc #(
        .ACC_W(ACC_W), .X_W(X_W), .X_SIGNED(X_SIGNED), .SATURATE(SATURATE)
    ) u_acc (
        .clk(clk), .rst(rst),
        .s_valid(s_valid), .s_ready(s_ready), .s_x(s_x), .s_code({s_code, 1'b1}), .s_last(s_last),
        .m_valid(m_valid), .m_ready(m_ready), .m_acc(m_acc)
    );

endmodule

`default_nettype wire
