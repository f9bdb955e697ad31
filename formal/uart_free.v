// Formal stand-ins for uart_rx and uart_tx (formal/host_link.sby reads this file in place of
// rtl/uart_rx.v and rtl/uart_tx.v): the receiver delivers any byte at any time, at least GAP
// idle cycles apart (the real one: 10 bit times), and the transmitter is ready whenever the
// solver likes. The host link's properties must hold for every such byte timing; the UART
// cores themselves are tested on their own (verif/test_uart.py).
`default_nettype none

module uart_rx #(
    parameter CLKS_PER_BIT = 16,  // unused here (the port list of rtl/uart_rx.v)
    parameter GAP          = 2    // idle cycles at least between two received bytes
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       rx,
    output reg        m_valid,
    output reg  [7:0] m_data,
    output reg        frame_err
);
    (* anyseq *) wire       f_v;
    (* anyseq *) wire [7:0] f_d;
    reg [3:0] gap_q;
    wire      unused = &{1'b0, rx};
    always @(posedge clk) begin
        m_valid   <= 1'b0;
        frame_err <= 1'b0;
        if (gap_q != 4'd0) gap_q <= gap_q - 4'd1;
        if (rst) begin
            gap_q <= 4'd0;
        end else if (f_v & (gap_q == 4'd0) & ~m_valid) begin
            m_valid <= 1'b1;
            m_data  <= f_d;
            gap_q   <= GAP[3:0];
        end
    end
endmodule

module uart_tx #(
    parameter CLKS_PER_BIT = 16   // unused here
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       s_valid,
    output wire       s_ready,
    input  wire [7:0] s_data,
    output wire       tx
);
    (* anyseq *) wire f_ready;
    wire unused = &{1'b0, clk, rst, s_valid, s_data};
    assign s_ready = f_ready;
    assign tx      = 1'b1;
endmodule

`default_nettype wire
