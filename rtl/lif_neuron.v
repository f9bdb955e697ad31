// lif_neuron: a valid/ready pipeline stage around lif_update, one lane of a time-multiplexed
// neuron array.
//
// Each accepted beat carries one neuron's membrane s_v, its input current s_cur for this
// time step and an opaque tag (e.g. the neuron index); one cycle later the stage presents
// the updated membrane m_v, the spike bit and the same tag, registered, held until
// m_ready. s_ready = !m_valid | m_ready (full throughput, no bubble).
// threshold is configuration: it is sampled together with the beat.
// Reference: icespike.fixed.lif_step (docs/arithmetic.md section 4).
`default_nettype none

module lif_neuron #(
    parameter MEM_W          = 21,  // membrane width (signed, saturating)
    parameter CUR_W          = 19,  // input current width (signed)
    parameter LEAK_SHIFT     = 4,   // leak v >>> LEAK_SHIFT per step, 0 = no leak
    parameter RESET_SUBTRACT = 1,   // 1: subtract threshold on a spike, 0: reset to zero
    parameter TAG_W          = 8    // width of the pass-through tag
) (
    input  wire                    clk,
    input  wire                    rst,
    // neuron states in
    input  wire                    s_valid,
    output wire                    s_ready,
    input  wire signed [MEM_W-1:0] s_v,
    input  wire signed [CUR_W-1:0] s_cur,
    input  wire        [TAG_W-1:0] s_tag,
    // updated neuron states out
    output wire                    m_valid,
    input  wire                    m_ready,
    output wire signed [MEM_W-1:0] m_v,
    output wire                    m_spike,
    output wire        [TAG_W-1:0] m_tag,
    // configuration
    input  wire        [MEM_W-1:0] threshold   // unsigned, 1 .. 2^(MEM_W-1) - 1
);

    reg                    m_valid_q;
    reg signed [MEM_W-1:0] m_v_q;
    reg                    m_spike_q;
    reg        [TAG_W-1:0] m_tag_q;

    wire signed [MEM_W-1:0] v_next;
    wire                    spike;

    wire fire = s_valid & s_ready;
    assign s_ready = ~m_valid_q | m_ready;
    assign m_valid = m_valid_q;
    assign m_v     = m_v_q;
    assign m_spike = m_spike_q;
    assign m_tag   = m_tag_q;

    lif_update #(
        .MEM_W         (MEM_W),
        .CUR_W         (CUR_W),
        .LEAK_SHIFT    (LEAK_SHIFT),
        .RESET_SUBTRACT(RESET_SUBTRACT)
    ) u_update (
        .v        (s_v),
        .cur      (s_cur),
        .threshold(threshold),
        .v_next   (v_next),
        .spike    (spike)
    );

    always @(posedge clk) begin
        if (rst) begin
            m_valid_q <= 1'b0;
        end else if (s_ready) begin
            m_valid_q <= s_valid;
        end
    end

    // Datapath registers: no reset (qualified by m_valid).
    always @(posedge clk) begin
        if (fire) begin
            m_v_q     <= v_next;
            m_spike_q <= spike;
            m_tag_q   <= s_tag;
        end
    end

`ifndef SYNTHESIS
    initial begin
        if (LEAK_SHIFT < 0 || LEAK_SHIFT >= MEM_W) begin
            $display("lif_neuron: ERROR: LEAK_SHIFT must be in [0, MEM_W) (LEAK_SHIFT=%0d)", LEAK_SHIFT);
            $finish;
        end
    end
    always @(posedge clk) begin
        if (!rst && fire && (threshold == {MEM_W{1'b0}} || threshold[MEM_W-1]))
            $display("lif_neuron: WARNING: threshold %0d outside [1, 2^(MEM_W-1)-1] at %0t",
                     threshold, $time);
    end
`endif

endmodule

`default_nettype wire
