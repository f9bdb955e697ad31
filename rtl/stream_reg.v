// stream_reg: a valid/ready register slice (skid buffer) at full throughput. Every output is
// a flip-flop: m_valid, m_data and s_ready; no combinational path runs from one side to the
// other, so it cuts timing between two blocks without changing what passes: the same words in
// the same order, none lost or duplicated, one cycle of latency.
// Two entries: the output register and a skid register that catches the word accepted in the
// cycle the output stalls (s_ready is low while the skid register is full).
`default_nettype none

module stream_reg #(
    parameter W = 8   // data width
) (
    input  wire         clk,
    input  wire         rst,       // synchronous, active high: both entries dropped
    input  wire         s_valid,
    output wire         s_ready,
    input  wire [W-1:0] s_data,
    output wire         m_valid,
    input  wire         m_ready,
    output wire [W-1:0] m_data
);

    reg         out_v_q, skid_v_q;
    reg [W-1:0] out_d_q, skid_d_q;

    assign s_ready = ~skid_v_q;
    assign m_valid = out_v_q;
    assign m_data  = out_d_q;

    always @(posedge clk) begin
        if (rst) begin
            out_v_q  <= 1'b0;
            skid_v_q <= 1'b0;
        end else if (out_v_q & ~m_ready) begin
            // output stalled: a word accepted now waits in the skid register
            if (s_valid & ~skid_v_q) begin
                skid_v_q <= 1'b1;
                skid_d_q <= s_data;
            end
        end else if (skid_v_q) begin
            // output free: the skid word moves on first (s_ready is low this cycle)
            out_v_q  <= 1'b1;
            out_d_q  <= skid_d_q;
            skid_v_q <= 1'b0;
        end else begin
            out_v_q <= s_valid;
            if (s_valid) out_d_q <= s_data;
        end
    end

endmodule

`default_nettype wire
