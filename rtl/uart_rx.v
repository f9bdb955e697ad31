// uart_rx: 8N1 UART receiver (least significant bit first), one byte stream out.
//
// rx passes a two-flip-flop synchroniser. A falling edge starts a frame; the start bit is
// checked again half a bit later (a shorter low pulse is a glitch and ignored), then every
// bit is sampled CLKS_PER_BIT cycles after the previous one, i.e. in the middle of each bit.
// A high stop bit gives m_valid for one cycle with the byte in m_data (there is no ready: a
// UART cannot wait; the consumer takes it in that cycle). A low stop bit gives frame_err for
// one cycle instead, and the receiver waits for the line to go high before it looks for the
// next start bit (a break is one error, not many). The receiver is ready for the next start
// bit from the middle of the stop bit, so a sender up to ~1/(2*10) faster than the receiver
// still works (tested: +-3 % baud error).
`default_nettype none

module uart_rx #(
    parameter CLKS_PER_BIT = 16   // clock cycles per bit (clk Hz / baud), >= 4
) (
    input  wire       clk,
    input  wire       rst,        // synchronous, active high
    input  wire       rx,         // serial line (asynchronous, idle high)
    output reg        m_valid,    // one cycle: m_data holds a received byte
    output reg  [7:0] m_data,
    output reg        frame_err   // one cycle: a frame ended with a low stop bit
);

    localparam CNT_W = $clog2(CLKS_PER_BIT);
    localparam integer FULL_I = CLKS_PER_BIT - 1;
    localparam integer HALF_I = CLKS_PER_BIT / 2 - 1;
    localparam [CNT_W-1:0] FULL = FULL_I[CNT_W-1:0];
    localparam [CNT_W-1:0] HALF = HALF_I[CNT_W-1:0];

`ifndef SYNTHESIS
    initial begin
        if (CLKS_PER_BIT < 4) begin
            $display("uart_rx: CLKS_PER_BIT must be >= 4, got %0d", CLKS_PER_BIT); $finish;
        end
    end
`endif

    localparam [2:0] S_IDLE = 3'd0, S_START = 3'd1, S_DATA = 3'd2, S_STOP = 3'd3, S_BREAK = 3'd4;

    reg             rx_m, rx_s;            // synchroniser
    reg [2:0]       state_q;
    reg [CNT_W-1:0] cnt_q;
    reg [2:0]       bit_q;
    wire            tick = (cnt_q == {CNT_W{1'b0}});

    always @(posedge clk) begin
        if (rst) begin
            rx_m <= 1'b1;
            rx_s <= 1'b1;
        end else begin
            rx_m <= rx;
            rx_s <= rx_m;
        end
    end

    always @(posedge clk) begin
        m_valid   <= 1'b0;
        frame_err <= 1'b0;
        if (rst) begin
            state_q <= S_IDLE;
            cnt_q   <= {CNT_W{1'b0}};
            bit_q   <= 3'd0;
        end else begin
            cnt_q <= tick ? {CNT_W{1'b0}} : cnt_q - 1'b1;
            case (state_q)
                S_IDLE: if (~rx_s) begin
                    state_q <= S_START;
                    cnt_q   <= HALF;
                end
                S_START: if (tick) begin
                    state_q <= rx_s ? S_IDLE : S_DATA;
                    cnt_q   <= FULL;
                    bit_q   <= 3'd0;
                end
                S_DATA: if (tick) begin
                    m_data <= {rx_s, m_data[7:1]};
                    cnt_q  <= FULL;
                    bit_q  <= bit_q + 3'd1;
                    if (bit_q == 3'd7) state_q <= S_STOP;
                end
                S_STOP: if (tick) begin
                    if (rx_s) begin
                        m_valid <= 1'b1;
                        state_q <= S_IDLE;
                    end else begin
                        frame_err <= 1'b1;
                        state_q   <= S_BREAK;
                    end
                end
                default: if (rx_s) state_q <= S_IDLE;   // S_BREAK: wait for the idle line
            endcase
        end
    end

endmodule

`default_nettype wire
